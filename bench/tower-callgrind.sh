#!/usr/bin/env bash
# Instructions per request of the bench/tower app under callgrind: a count that does not
# depend on how busy the machine is, unlike req/s. For each variant, the app runs under
# valgrind, 300 sessions are made with /incr, the counters are zeroed, wrk -c1 sends ROUTE
# for SECONDS with a random cookie of those sessions, and the count is dumped. Prints
# instructions per request and, against `none` on /raw, the session's share.
# Usage: bash bench/tower-callgrind.sh [route] [seconds] [variants...]
set -euo pipefail
cd "$(dirname "$0")/.."
ROUTE=${1:-/read}
SECS=${2:-10}
shift 2 || true
VARIANTS=${*:-polysession-memory tower-memory}
source scripts/services.sh
need wrk wrk
need valgrind valgrind
start_redis
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/polysession/target-bench}
cargo build --release -q --manifest-path bench/tower/Cargo.toml
BIN="$CARGO_TARGET_DIR/release/polysession-bench-tower"
WORK=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$WORK"' EXIT
port=18390

# count VARIANT ROUTE -> "instructions requests"
count() {
  local out="$WORK/cg.$1" n total
  valgrind --tool=callgrind --callgrind-out-file="$out" "$BIN" "$1" "$port" >/dev/null 2>&1 &
  PID=$!
  for _ in $(seq 600); do curl -s -o /dev/null "http://127.0.0.1:$port/raw" && break; sleep 0.1; done
  for _ in $(seq 300); do
    curl -s -o /dev/null -D - "http://127.0.0.1:$port/incr" | awk 'tolower($1) == "set-cookie:" { split($2, a, ";"); print a[1] }'
  done >"$WORK/cookies"
  [ -s "$WORK/cookies" ] || echo "x=1" >"$WORK/cookies"
  callgrind_control -z "$PID" >/dev/null 2>&1
  n=$(COOKIES="$WORK/cookies" wrk -t1 -c1 -d"${SECS}s" -s bench/node/random-cookie.lua "http://127.0.0.1:$port$2" | awk '/ requests in / { print $1 }')
  callgrind_control -d "$PID" >/dev/null 2>&1
  sleep 1
  kill -9 "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  PID=
  total=$(cat "$out".* | awk '/^(summary|totals):/ && !t { t = $2 } END { print t }')
  rm -f "$out" "$out".*
  echo "$total $n"
}

read -r base_i base_n < <(count none /raw)
base=$(awk -v i="$base_i" -v n="$base_n" 'BEGIN { printf "%.0f", i / n }')
printf '\ncallgrind, instructions per request, wrk -c1 for %ss, random cookie over 300 sessions\n\n' "$SECS"
printf '| route | layer | instructions/req | session instructions/req (less /raw) |\n|---|---|---|---|\n'
printf '| /raw | none | %s | — |\n' "$base"
for v in $VARIANTS; do
  read -r i n < <(count "$v" "$ROUTE")
  awk -v r="$ROUTE" -v v="$v" -v i="$i" -v n="$n" -v b="$base" 'BEGIN { printf "| %s | %s | %.0f | %.0f |\n", r, v, i / n, i / n - b }'
done
