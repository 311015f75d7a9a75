#!/usr/bin/env bash
# The memory test (issue 18): `cairn serve` in a cgroup limited to 256 MiB (LIMIT_MB)
# through the benchmark's list, record, page and board cases, then `cairn import` of
# 100 000 contacts into the same database from the same cgroup while wrk keeps the
# server busy. Fails when the kernel killed anything in the cgroup or the server stopped
# answering; prints the cgroup's peak memory.
#   usage: [BIN=target/release/cairn] [LIMIT_MB=256] [DURATION=10] scripts/bench.d/memory_limit.sh
# Needs root and a writable cgroup (v2 memory.max, or v1's memory controller).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-$PWD/target/release/cairn}
LIMIT_MB=${LIMIT_MB:-256}
DURATION=${DURATION:-10}
WORK=$(mktemp -d /tmp/cairn-memory.XXXXXX)
NAME=cairn-memory-$$
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  CG=/sys/fs/cgroup/$NAME; mkdir "$CG"; echo $((LIMIT_MB << 20)) > "$CG/memory.max"; echo 0 > "$CG/memory.swap.max" 2>/dev/null || true
  peak() { cat "$CG/memory.peak" 2>/dev/null || echo 0; }
  killed() { awk '$1 == "oom_kill" {print $2}' "$CG/memory.events"; }
elif [ -d /sys/fs/cgroup/memory ]; then
  CG=/sys/fs/cgroup/memory/$NAME; mkdir "$CG"; echo $((LIMIT_MB << 20)) > "$CG/memory.limit_in_bytes"
  echo $((LIMIT_MB << 20)) > "$CG/memory.memsw.limit_in_bytes" 2>/dev/null || true
  peak() { cat "$CG/memory.max_usage_in_bytes"; }
  killed() { awk '$1 == "oom_kill" {print $2}' "$CG/memory.oom_control" 2>/dev/null || echo 0; }
else
  echo "no writable memory cgroup here" >&2; exit 1
fi
SERVER=
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
  sleep 0.2; rmdir "$CG" 2>/dev/null || true; rm -rf "$WORK"
}
trap cleanup EXIT
# Runs its arguments inside the limited cgroup, as the same process (exec).
ENTER='echo $$ > "$0/cgroup.procs" && exec "$@"'

export CAIRN_DATABASE_URL=sqlite://$WORK/memory.db CAIRN_LOG=warn
PORT=18470; while (echo > "/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do PORT=$((PORT + 1)); done
BASE=http://127.0.0.1:$PORT
CAIRN_PASSWORD=bench-password "$BIN" user create --email bench@example.com --name Bench --role admin >/dev/null
TOKEN=$("$BIN" token create --email bench@example.com --name bench)
"$BIN" seed --contacts 10000 --deals 2222 --tasks 10000 --seed 1 >/dev/null
CAIRN_BIND=127.0.0.1:$PORT sh -c "$ENTER" "$CG" "$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 100); do curl -fs "$BASE/healthz" >/dev/null && break; sleep 0.1; done
jar=$WORK/jar
csrf=$(curl -fs -c "$jar" "$BASE/login" | grep -o 'name="_csrf" value="[^"]*"' | head -n1 | cut -d'"' -f4)
curl -fs -b "$jar" -c "$jar" -o /dev/null --data-urlencode "_csrf=$csrf" -d email=bench@example.com -d password=bench-password "$BASE/login"
COOKIE="cairn_session=$(awk '$6 == "cairn_session" {print $7}' "$jar")"
case_() { # NAME wrk-args…
  local name=$1; shift
  printf '%-40s %s req/s\n' "$name" "$(wrk -t2 -c32 -d"${DURATION}s" "$@" | awk '/^Requests\/sec/ {printf "%.0f", $2}')"
}
export BENCH_MAX_ID=10000 BENCH_TOKEN=$TOKEN
case_ "(a) /api/v1/contacts" -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/contacts?per_page=25"
case_ "(c) /api/v1/contacts/{random id}" -H "Authorization: Bearer $TOKEN" -s scripts/bench.d/random_id.lua "$BASE"
case_ "(e) /contacts (HTML)" -H "Cookie: $COOKIE" "$BASE/contacts"
case_ "(i) /deals (board)" -H "Cookie: $COOKIE" "$BASE/deals"
case_ "(k) /deals/list" -H "Cookie: $COOKIE" "$BASE/deals/list"
python3 - "$WORK/contacts.csv" <<'PY'
import csv, sys
with open(sys.argv[1], "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["First Name", "Last Name", "Email", "Company", "Phone"])
    for i in range(100_000):
        w.writerow([f"Imported{i}", f"Person{i % 977}", f"imported{i}@example.org", f"Company {i % 5000}", f"+1555{i:07d}"])
PY
wrk -t1 -c8 -d600s -H "Cookie: $COOKIE" "$BASE/contacts" >/dev/null &
LOAD=$!
started=$(date +%s)
sh -c "$ENTER" "$CG" "$BIN" import "$WORK/contacts.csv" --type contacts --preset generic --as bench@example.com >"$WORK/import.log" 2>&1 &
IMPORT=$!
IMPORT_PEAK=0
while kill -0 $IMPORT 2>/dev/null; do
  kb=$(awk '/VmHWM/ {print $2}' /proc/$IMPORT/status 2>/dev/null || echo 0)
  [ "${kb:-0}" -gt "$IMPORT_PEAK" ] && IMPORT_PEAK=$kb
  sleep 0.2
done
wait $IMPORT ||
  { kill $LOAD; echo "FAIL: the import failed:"; tail -5 "$WORK/import.log"; exit 1; }
kill $LOAD; wait $LOAD 2>/dev/null || true
echo "import of 100 000 contacts in the cgroup: $(( $(date +%s) - started )) s, while /contacts was read; the import's peak RSS about $((IMPORT_PEAK / 1024)) MB"
curl -fs "$BASE/healthz" >/dev/null || { echo "FAIL: the server stopped answering"; exit 1; }
kill -0 "$SERVER" || { echo "FAIL: the server is gone"; exit 1; }
echo "server RSS now $(awk '/VmRSS/ {printf "%.0f MB", $2/1024}' /proc/$SERVER/status), its peak $(awk '/VmHWM/ {printf "%.0f MB", $2/1024}' /proc/$SERVER/status)"
echo "cgroup limit ${LIMIT_MB} MiB, its peak $(( $(peak) >> 20 )) MiB (the kernel counts the database's page cache too, and reclaims it at the limit), processes killed by the kernel: $(killed)"
[ "$(killed)" = 0 ] || { echo "FAIL: the kernel killed a process"; exit 1; }
echo "PASS: nothing was killed"
