#!/usr/bin/env bash
# Redis's own instructions per request of the bench/tower app: a redis-server of this script
# runs under callgrind on its own port, so the count is Redis's work alone (user space; not
# the kernel's) and does not depend on how busy the machine is. For each variant: a fresh
# server, the app pointed at it (REDIS_URL), 300 sessions made with /incr, a 3 s warm-up, the
# counters zeroed, wrk -cCONNECTIONS on ROUTE for SECONDS with a random cookie of those
# sessions, and the count dumped. Prints Redis instructions and top-level commands per request;
# each profile is kept in $OUT (default /tmp/redis-callgrind) for callgrind_annotate.
# Under callgrind Redis is slow, so the app's requests wait for it longer than against a
# server at full speed: compare variants of one run, not a run with bench/tower-http.sh.
# Usage: bash bench/redis-callgrind.sh [route] [connections] [seconds] [variants...]
set -euo pipefail
cd "$(dirname "$0")/.."
ROUTE=${1:-/incr}
C=${2:-16}
SECS=${3:-10}
shift 3 || true
VARIANTS=${*:-polysession-redis tower-redis}
OUT=${OUT:-/tmp/redis-callgrind}
source scripts/services.sh
need wrk wrk
need valgrind valgrind
need redis-server redis-server
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/polysession/target-bench}
cargo build --release -q --manifest-path bench/tower/Cargo.toml
BIN="$CARGO_TARGET_DIR/release/polysession-bench-tower"
mkdir -p "$OUT"
WORK=$(mktemp -d)
RPID=
APID=
trap 'kill -9 $RPID $APID 2>/dev/null || true; rm -rf "$WORK"' EXIT
rport=16390
aport=18398

# redis_cli ARGS... against the server under callgrind
rcli() { redis-cli -p "$rport" "$@"; }

# count VARIANT -> "instructions requests commands"
count() {
  local out="$OUT/redis.$1" n cmds
  rm -f "$out" "$out".*
  valgrind --tool=callgrind --callgrind-out-file="$out" \
    redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly no >/dev/null 2>&1 &
  RPID=$!
  for _ in $(seq 300); do rcli ping >/dev/null 2>&1 && break; sleep 0.1; done
  REDIS_URL="127.0.0.1:$rport" "$BIN" "$1" "$aport" >/dev/null &
  APID=$!
  wait_port "$aport" "$1"
  for _ in $(seq 300); do
    curl -s -o /dev/null -D - "http://127.0.0.1:$aport/incr" | awk 'tolower($1) == "set-cookie:" { split($2, a, ";"); print a[1] }'
  done >"$WORK/cookies"
  [ -s "$WORK/cookies" ] || echo "x=1" >"$WORK/cookies"
  COOKIES="$WORK/cookies" wrk -t1 -c"$C" -d3s -s bench/node/random-cookie.lua "http://127.0.0.1:$aport$ROUTE" >/dev/null
  rcli CONFIG RESETSTAT >/dev/null
  callgrind_control -z "$RPID" >/dev/null 2>&1
  n=$(COOKIES="$WORK/cookies" wrk -t1 -c"$C" -d"${SECS}s" -s bench/node/random-cookie.lua "http://127.0.0.1:$aport$ROUTE" | awk '/ requests in / { print $1 }')
  callgrind_control -d "$RPID" >/dev/null 2>&1
  # Top-level commands: every command's calls, less those our scripts run inside.
  cmds=$(rcli INFO commandstats | tr -d '\r' | awk -F'[:=,]' '
    /^cmdstat_/ { name = substr($1, 9); if (name !~ /^(hget|hset|pexpireat|exists|rename|info|config)$/) t += $3 }
    END { print t + 0 }')
  kill "$APID" 2>/dev/null || true
  wait "$APID" 2>/dev/null || true
  APID=
  rcli shutdown nosave >/dev/null 2>&1 || kill -9 "$RPID" 2>/dev/null || true
  wait "$RPID" 2>/dev/null || true
  RPID=
  echo "$(awk '/^(summary|totals):/ && !t { t = $2 } END { print t }' "$out".1) $n $cmds"
}

printf '\nRedis under callgrind, %s, wrk -c%s for %ss, random cookie over 300 sessions\n\n' "$ROUTE" "$C" "$SECS"
printf '| route | layer | Redis instructions/req | Redis commands/req |\n|---|---|---|---|\n'
for v in $VARIANTS; do
  read -r i n k < <(count "$v")
  awk -v r="$ROUTE" -v v="$v" -v i="$i" -v n="$n" -v k="$k" 'BEGIN { printf "| %s | %s | %.0f | %.3f |\n", r, v, i / n, k / n }'
done
printf '\nprofiles: %s/redis.<variant>.1 (callgrind_annotate --inclusive=yes)\n' "$OUT"
