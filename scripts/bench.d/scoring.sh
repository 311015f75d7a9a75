#!/usr/bin/env bash
# Deal score benchmark (issue 17), on SQLite: a year of history seeded with `cairn seed
# --year` (whose closing deals are won or lost by a hidden logistic rule), then
#   - training (`cairn score train`): wall time and peak RSS, and its hold-out metrics;
#   - scoring every open deal (`cairn score deals`): wall time and peak RSS;
#   - scoring one deal (`cairn score deal ID`, five deals): read-and-score and store times;
#   - the contact list's p99 idle and while training runs over and over beside it;
#   - the board's p99 before any score and with scores shown;
#   - the lead score: training (`cairn score train --kind lead`), scoring every lead
#     (`cairn score leads`), one contact at a time (`cairn score lead ID`), the contact
#     list's p99 before and with the lead score column, and while the lead score trains.
# Usage: BIN=target/release/cairn CONTACTS=1000000 DEALS=360000 scripts/bench.d/scoring.sh
#   DB=/path/cairn.db uses (and keeps) an already seeded database instead of seeding one.
#   DURATION (default 20) seconds per wrk run.
set -euo pipefail
BIN=${BIN:-target/release/cairn}
CONTACTS=${CONTACTS:-100000}
DEALS=${DEALS:-$((CONTACTS * 36 / 100))}
DURATION=${DURATION:-20}
PORT=${PORT:-18093}
BASE=http://127.0.0.1:$PORT
WORK=$(mktemp -d)
DB=${DB:-}
if [ -z "$DB" ]; then DB=$WORK/cairn.db; FRESH=1; else FRESH=0; fi
export CAIRN_DATABASE_URL="sqlite://$DB" CAIRN_LOG=warn CAIRN_BIND=127.0.0.1:$PORT
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

# timed LABEL CMD…: runs CMD, prints its output, then its wall time and peak RSS.
timed() {
  local label=$1; shift
  /usr/bin/time -f '%e %M' -o "$WORK/time" "$@"
  read -r secs kb <"$WORK/time"
  printf '%-40s %8.1f s %8d MB peak RSS\n' "$label" "$secs" "$((kb / 1024))"
}

CAIRN_PASSWORD=bench-password "$BIN" user create --email bench@example.com --name Bench --role admin >/dev/null 2>&1 || true
if [ "$FRESH" = 1 ]; then
  timed "seed --year $CONTACTS contacts, $DEALS deals" "$BIN" seed --year --contacts "$CONTACTS" --deals "$DEALS" >/dev/null
fi
TOKEN=$("$BIN" token create --email bench@example.com --name bench 2>/dev/null)

"$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 300); do curl -fs "$BASE/healthz" >/dev/null && break; sleep 0.1; done
jar=$WORK/jar
csrf=$(curl -fs -c "$jar" "$BASE/login" | grep -o 'name="_csrf" value="[^"]*"' | head -n1 | cut -d'"' -f4)
curl -fs -b "$jar" -c "$jar" -o /dev/null --data-urlencode "_csrf=$csrf" -d email=bench@example.com -d password=bench-password "$BASE/login"
COOKIE="cairn_session=$(awk '$6 == "cairn_session" {print $7}' "$jar")"

p99() {
  wrk -t2 -c32 -d"${DURATION}s" --latency "$@" | awk '/^Requests\/sec/ {r=$2} $1 == "99%" {p=$2} END {printf "%8.0f req/s  p99 %s\n", r, p}'
}
echo "board before any score:          $(p99 -H "Cookie: $COOKIE" "$BASE/deals")"

timed "score train" "$BIN" score train
timed "score deals (every open deal)" "$BIN" score deals
# Six open deals scored one at a time in one process (the first warms its connection).
# (Each deal's own id: its contacts and company carry ids too.)
ids=$(curl -fs -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/deals?status=open&per_page=6" | grep -o '"id":[0-9]*,"title"' | cut -d: -f2 | cut -d, -f1)
# shellcheck disable=SC2086
"$BIN" score deal $ids >"$WORK/one"
grep '^deal ' "$WORK/one"

echo "board with scores shown:         $(p99 -H "Cookie: $COOKIE" "$BASE/deals")"
LIST=(-H "Authorization: Bearer $TOKEN" "$BASE/api/v1/contacts?per_page=25")
echo "contact list idle:               $(p99 "${LIST[@]}")"
( end=$((SECONDS + DURATION + 2)); n=0
  while [ $SECONDS -lt $end ]; do "$BIN" score train >/dev/null; n=$((n + 1)); done
  echo "$n" >"$WORK/runs" ) &
TRAINER=$!
sleep 1
echo "contact list while training:     $(p99 "${LIST[@]}")"
wait "$TRAINER"
echo "(training ran $(cat "$WORK/runs") times back to back during that run)"

# The lead score.
echo "contact list page, no lead score: $(p99 -H "Cookie: $COOKIE" "$BASE/contacts")"
timed "score train --kind lead" "$BIN" score train --kind lead
timed "score leads (every lead)" "$BIN" score leads
ids=$(curl -fs -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/contacts?per_page=6" | grep -o '"id":[0-9]*,"first_name"' | cut -d: -f2 | cut -d, -f1)
# shellcheck disable=SC2086
"$BIN" score lead $ids >"$WORK/one" || true
grep '^contact ' "$WORK/one" || cat "$WORK/one"
sleep 6 # the list's "a lead model scores" is cached for 5 s
echo "contact list page, lead scores:   $(p99 -H "Cookie: $COOKIE" "$BASE/contacts")"
echo "contact list API, lead scores:    $(p99 "${LIST[@]}")"
( end=$((SECONDS + DURATION + 2)); n=0
  while [ $SECONDS -lt $end ]; do "$BIN" score train --kind lead >/dev/null; n=$((n + 1)); done
  echo "$n" >"$WORK/runs" ) &
TRAINER=$!
sleep 1
echo "contact list while lead training: $(p99 "${LIST[@]}")"
wait "$TRAINER"
echo "(lead training ran $(cat "$WORK/runs") times back to back during that run)"
