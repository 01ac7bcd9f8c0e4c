#!/usr/bin/env bash
# Redis provider throughput over HTTP against redis-benchmark GET+SET at the same concurrency,
# measured in one run. Usage: bash bench/redis-http.sh [connections] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
C=${1:-16}
SECS=${2:-10}
source scripts/services.sh
need wrk wrk
start_redis
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/polysession/target}
cargo build --release -q -p polysession-demo
PORT=18099
"$CARGO_TARGET_DIR/release/polysession-demo" --port $PORT --provider redis \
  --provider-config '{"save_path":"127.0.0.1:6379","prefix":"httpbench:"}' >/dev/null &
DEMO=$!
trap 'kill $DEMO 2>/dev/null || true' EXIT
wait_port $PORT polysession-demo

wrk -t2 -c"$C" -d2s -s bench/counter.lua "http://127.0.0.1:$PORT/" >/dev/null   # warm up, make sessions
demo_rps=$(wrk -t2 -c"$C" -d"${SECS}s" -s bench/counter.lua "http://127.0.0.1:$PORT/" | awk '/^Requests\/sec/ {print $2}')
rb=$(redis-benchmark -h 127.0.0.1 -p 6379 -c "$C" -n 200000 -t get,set -q -r 100000 2>/dev/null | tr '\r' '\n')
set_rps=$(echo "$rb" | awk '/^SET: [0-9]/ {print $2; exit}')
get_rps=$(echo "$rb" | awk '/^GET: [0-9]/ {print $2; exit}')
pair_rps=$(awk -v g="$get_rps" -v s="$set_rps" 'BEGIN {printf "%.0f", 1 / (1/g + 1/s)}')
echo "connections:                      $C"
echo "demo GET / (1 read + 1 write):    $demo_rps req/s"
echo "redis-benchmark GET:              $get_rps ops/s"
echo "redis-benchmark SET:              $set_rps ops/s"
echo "redis-benchmark GET+SET pairs:    $pair_rps pairs/s"
awk -v d="$demo_rps" -v p="$pair_rps" 'BEGIN {printf "ratio demo / GET+SET pairs:       %.2f\n", d / p}'
