#!/bin/bash
# usage: [BIN=path] scripts/bench.d/import_100k.sh DBURL  — 100k contacts via `cairn import` (release), while a
# `cairn serve` on the same database answers contact creates through the API.
set -e
B=${BIN:-target/release/cairn}
export CAIRN_DATABASE_URL="$1" CAIRN_LOG=warn
$B migrate >/dev/null
CAIRN_PASSWORD="correct horse battery" $B user create --email admin@example.com --name Admin --role admin >/dev/null
TOKEN=$($B token create --email admin@example.com --name bench)
PORT=18462
CAIRN_BIND=127.0.0.1:$PORT $B serve >/tmp/bench-serve.log 2>&1 &
SERVE=$!
sleep 2
# Writes during a quiet minute first, then during the import.
probe() { # label n
  : > /tmp/lat-$1.txt
  for i in $(seq 1 $2); do
    curl -s -o /dev/null -w "%{http_code} %{time_total}\n" -X POST http://127.0.0.1:$PORT/api/v1/contacts \
      -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
      -d "{\"first_name\":\"Probe\",\"last_name\":\"$1$i\",\"email\":\"probe-$1-$i@example.net\"}" >> /tmp/lat-$1.txt
    sleep 0.05
  done
}
probe quiet 50
probe busy 100000 &
PROBE=$!
/usr/bin/time -f "import wall %e s, max RSS %M kB" $B import /tmp/contacts100k.csv --type contacts --preset generic
kill $PROBE 2>/dev/null || true
kill $SERVE
for l in quiet busy; do
  echo "$l: $(wc -l < /tmp/lat-$l.txt) creates, status $(cut -d' ' -f1 /tmp/lat-$l.txt | sort | uniq -c | tr '\n' ' ')"
  cut -d' ' -f2 /tmp/lat-$l.txt | sort -n | awk '{a[NR]=$1} END {printf "  p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", a[int(NR*0.5)]*1000, a[int(NR*0.99)]*1000, a[NR]*1000}'
done
