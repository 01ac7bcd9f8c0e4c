#!/usr/bin/env bash
# Session cost in Express: polysession (memory, Redis) against express-session (MemoryStore,
# connect-redis) and no session, in one run with wrk: 1000 pre-created sessions, a random
# cookie per request, routes /read, /write, /untouched. Prints req/s and the session cost in µs
# per request, 1/rps_with - 1/rps_without (the same route on the app with no session), as the
# median of interleaved rounds. The apps run on CPU 1, wrk and Redis on CPU 0 (taskset).
# Usage: bash bench/node-http.sh [connections] [seconds] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
C=${1:-16}
SECS=${2:-5}
ROUNDS=${3:-5}
source scripts/services.sh
need wrk wrk
start_redis
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/polysession/target}
# The release addon, loaded in place of the test build.
(cd node && [ -d node_modules ] || npm install --no-audit --no-fund --loglevel=error)
cargo build --release -q -p polysession-node
WORK=$(mktemp -d)
cp "$CARGO_TARGET_DIR/release/libpolysession_node.so" "$WORK/polysession.node"
export NAPI_RS_NATIVE_LIBRARY_PATH="$WORK/polysession.node"
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

variants="none polysession-memory polysession-redis express-session-memory express-session-redis"
port=18200
declare -A PORT APP
for v in $variants; do
  port=$((port + 1))
  PORT[$v]=$port
  taskset -c 1 node bench/node/app.js "$v" "$port" >/dev/null &
  PIDS+=($!)
  APP[$v]=$!
done
source bench/lib.sh
for v in $variants; do wait_port "${PORT[$v]}" "$v"; done
for v in $variants; do
  node bench/node/seed.js "http://127.0.0.1:${PORT[$v]}" 1000 >"$WORK/$v.cookies"
  [ -s "$WORK/$v.cookies" ] || echo "x=1" >"$WORK/$v.cookies"
done

declare -A RPS CPU
measure 2

printf '\nExpress 5, wrk -c%s, median of %s rounds of %ss, 1000 sessions, random cookie per request (node %s)\n\n' "$C" "$ROUNDS" "$SECS" "$(node --version)"
printf '| route | layer | req/s | session cost µs/req (1/rps) | app CPU µs/req | session CPU µs/req |\n|---|---|---|---|---|---|\n'
for route in /read /write /untouched; do
  base=${RPS[none$route]}
  cbase=${CPU[none$route]}
  for v in $variants; do
    awk -v r="$route" -v v="$v" -v x="${RPS[$v$route]}" -v b="$base" -v c="${CPU[$v$route]}" -v cb="$cbase" '
      BEGIN {
        cost = (v == "none") ? "—" : sprintf("%.1f", (1/x - 1/b) * 1e6)
        ccost = (v == "none") ? "—" : sprintf("%.1f", c - cb)
        printf "| %s | %s | %.0f | %s | %.1f | %s |\n", r, v, x, cost, c, ccost
      }'
  done
done
