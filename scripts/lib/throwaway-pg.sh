# Sourced by scripts/test and scripts/bench: installs Debian's PostgreSQL when missing and
# starts a throwaway server in a temporary directory, stopped and removed on exit.
#   start_throwaway_pg [extra server options...]
# sets PGBIN, PGTMP, PGPORT (from $1 of PG_PORT_FROM, default 54329, the first free port)
# and as_pg (runs a command as the postgres user when we are root).
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

install_pg() {
  if [ -z "$(pg_bin)" ] || [ ! -x "$(pg_bin)/initdb" ]; then
    printf '\n==> %s\n' "installing PostgreSQL (Debian package postgresql)"
    if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; fi
  fi
  PGBIN=$(pg_bin)
  [ -x "$PGBIN/initdb" ] || { echo "FAIL: PostgreSQL's initdb is not installed" >&2; exit 1; }
}

if [ "$(id -u)" = 0 ]; then
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }
fi

stop_pg() {
  [ -n "${PGTMP:-}" ] || return 0
  as_pg "$PGBIN/pg_ctl" -D "$PGTMP/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$PGTMP"
  PGTMP=
}

start_throwaway_pg() {
  install_pg
  PGTMP=$(mktemp -d /tmp/cairn-pg.XXXXXX)
  PGPORT=${PG_PORT_FROM:-54329}
  while (echo > "/dev/tcp/127.0.0.1/$PGPORT") 2>/dev/null; do PGPORT=$((PGPORT + 1)); done
  if [ "$(id -u)" = 0 ]; then chown postgres: "$PGTMP"; fi
  as_pg "$PGBIN/initdb" -D "$PGTMP/data" -U postgres --auth-local=trust --auth-host=trust >/dev/null
  local opts="-p $PGPORT -k $PGTMP -c listen_addresses=127.0.0.1 -c max_connections=300 $*"
  if ! as_pg "$PGBIN/pg_ctl" -D "$PGTMP/data" -l "$PGTMP/server.log" -w -t 60 -o "$opts" start >/dev/null; then
    echo "FAIL: PostgreSQL did not start:" >&2
    cat "$PGTMP/server.log" >&2
    exit 1
  fi
  local ok
  ok=$(as_pg "$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -Atc 'SELECT 1' postgres || true)
  [ "$ok" = 1 ] || { echo "FAIL: PostgreSQL does not answer on port $PGPORT" >&2; exit 1; }
}

# psql as the server's superuser: pg_sql DATABASE SQL
pg_sql() { as_pg "$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -Atqc "$2" "$1"; }
