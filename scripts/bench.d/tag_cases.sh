#!/usr/bin/env bash
# Database time per request of the contact list's tag cases (tag-1m.md): starts BIN on
# DATABASE_URL with sqlx's statement log on, asks each case one request after another
# (N requests, N_SLOW for a case whose warm-up took over 50 ms) and prints the mean of
# sqlx's own `elapsed` summed over each request's statements, the token's lookup and
# last-use stamp left out.  Usage: tag_cases.sh BIN DATABASE_URL TOKEN [CASES...]
set -euo pipefail
BIN=$1 URL=$2 TOKEN=$3; shift 3
N=${N:-100} N_SLOW=${N_SLOW:-20}
PORT=${PORT:-18473}
LOG=$(mktemp /tmp/tag-cases.XXXXXX.log)
declare -A CASES=(
  [c_first]="per_page=25" [c_source]="source=paid" [c_tag]="tags=vip"
  [c_tag_source]="tags=vip&source=paid" [c_tag_src_name]="tags=vip&source=paid&sort=name_desc"
  [c_tag_owner]="tags=vip&owner=2" [c_tag_company]="tags=vip&company=acme"
)
ORDER=("${@:-c_first c_source c_tag c_tag_source c_tag_src_name c_tag_owner c_tag_company}")
CAIRN_DATABASE_URL=$URL CAIRN_BIND=127.0.0.1:$PORT CAIRN_LOG="warn,sqlx::query=debug" \
  CAIRN_JOB_WORKERS=1 "$BIN" serve >"$LOG" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; rm -f "$LOG"' EXIT
until curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null; do sleep 0.1; done
ask() { curl -sf -o /dev/null -H "authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/contacts?$1"; }
# The seconds of the statements logged after line $1, tokens' left out.
spent() {
  tail -n +"$(($1 + 1))" "$LOG" | grep 'sqlx::query' | grep -v api_tokens \
    | grep -o 'elapsed_secs=[0-9.e-]*' | cut -d= -f2 | awk '{s += $1} END {printf "%.6f", s}'
}
for name in ${ORDER[@]}; do
  q=${CASES[$name]}
  mark=$(wc -l <"$LOG"); for _ in 1 2 3; do ask "$q"; done
  warm=$(spent "$mark")
  n=$N; if awk -v w="$warm" 'BEGIN {exit !(w / 3 > 0.05)}'; then n=$N_SLOW; fi
  mark=$(wc -l <"$LOG"); for _ in $(seq "$n"); do ask "$q"; done
  echo "$name $q n=$n ms=$(awk -v s="$(spent "$mark")" -v n="$n" 'BEGIN {printf "%.3f", s * 1000 / n}')"
done
