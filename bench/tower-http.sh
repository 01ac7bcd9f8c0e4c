#!/usr/bin/env bash
# Session cost in axum: polysession (memory, Redis with its client-side cache) against
# tower-sessions (MemoryStore, tower-sessions-redis-store on fred) and no session, in one run
# with wrk: 1000 pre-created sessions per layer, a random cookie per request, routes /read
# (reads n), /incr (n += 1) and /raw (no session); polysession on Redis runs with the
# client-side cache and without it (polysession-redis-uncached). Each app is the same axum binary
# (bench/tower, its own cargo project) on one worker thread, pinned to CPU 1; wrk and Redis
# run on CPU 0. Prints req/s, the session cost in µs per request (1/rps - 1/rps_raw of the
# same app), the app's CPU per request and Redis commands per request (INFO commandstats,
# top-level commands only), as the median of interleaved rounds.
# FLOOR=1 adds polysession-redis-floor: the same app built with --cfg polysession_bench_floor,
# where a write is one unconditional HSET instead of the compare-and-set script (it loses
# concurrent updates: a measuring instrument only), the floor of any one-command write.
# Usage: [FLOOR=1] [VARIANTS="..."] [ROUTES="/read /incr"] bash bench/tower-http.sh [connections] [seconds] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
C=${1:-16}
SECS=${2:-5}
ROUNDS=${3:-3}
source scripts/services.sh
need wrk wrk
start_redis
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/polysession/target-bench}
cargo build --release -q --manifest-path bench/tower/Cargo.toml
BIN="$CARGO_TARGET_DIR/release/polysession-bench-tower"
if [ "${FLOOR:-}" = 1 ]; then
  CARGO_TARGET_DIR="$CARGO_TARGET_DIR-floor" RUSTFLAGS="--cfg polysession_bench_floor" \
    cargo build --release -q --manifest-path bench/tower/Cargo.toml
fi
WORK=$(mktemp -d)
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

# VARIANTS and ROUTES narrow a run (`none` and /raw are always measured: the baseline).
variants="none ${VARIANTS:-polysession-memory polysession-redis polysession-redis-uncached tower-memory tower-redis}"
[ "${FLOOR:-}" = 1 ] && variants="$variants polysession-redis-floor"
routes="${ROUTES:-/read /incr} /raw"
port=18300
declare -A PORT APP
for v in $variants; do
  port=$((port + 1))
  PORT[$v]=$port
  if [ "$v" = polysession-redis-floor ]; then
    taskset -c 1 "$CARGO_TARGET_DIR-floor/release/polysession-bench-tower" polysession-redis "$port" >/dev/null &
  else
    taskset -c 1 "$BIN" "$v" "$port" >/dev/null &
  fi
  PIDS+=($!)
  APP[$v]=$!
done
source bench/lib.sh
for v in $variants; do wait_port "${PORT[$v]}" "$v"; done
for v in $variants; do
  for _ in $(seq 1000); do
    curl -s -o /dev/null -D - "http://127.0.0.1:${PORT[$v]}/incr" | awk 'tolower($1) == "set-cookie:" { split($2, a, ";"); print a[1] }'
  done >"$WORK/$v.cookies"
  [ -s "$WORK/$v.cookies" ] || echo "x=1" >"$WORK/$v.cookies"
done

# Top-level Redis commands so far: every command's calls, less those our scripts run inside
# (the floor variant's HSET is its own command).
redis_calls() {
  local inner='^(hget|hset|pexpireat|exists|rename|info)$'
  [ "$1" = polysession-redis-floor ] && inner='^(hget|pexpireat|exists|rename|info)$'
  redis-cli -p 6379 INFO commandstats | tr -d '\r' | awk -F'[:=,]' -v inner="$inner" '
    /^cmdstat_/ { name = substr($1, 9); calls = $3
      if (name !~ inner) total += calls }
    END { print total + 0 }'
}

# Redis's own CPU so far (user + system), in µs.
redis_cpu() {
  redis-cli -p 6379 INFO cpu | tr -d '\r' | awk -F: '/^used_cpu_(user|sys):/ { t += $2 } END { printf "%.0f", t * 1e6 }'
}

# Busy and total ticks of CPU 0 (wrk and Redis), from /proc/stat.
cpu0() { awk '$1 == "cpu0" { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat; }

declare -A RPS CPU CMD RCPU BUSY
for route in $routes; do
  for v in $variants; do rps "$v" "$route" 2 >/dev/null; done # warm up
done
for _ in $(seq "$ROUNDS"); do
  for route in $routes; do
    for v in $variants; do
      before=$(redis_calls "$v")
      rbefore=$(redis_cpu)
      read -r b0 t0 < <(cpu0)
      read -r r c n < <(rps_n "$v" "$route" "$SECS")
      read -r b1 t1 < <(cpu0)
      rafter=$(redis_cpu)
      after=$(redis_calls "$v")
      RCPU[$v$route]="${RCPU[$v$route]:-} $(awk -v d="$((rafter - rbefore))" -v n="$n" 'BEGIN { printf "%.2f", d / n }')"
      BUSY[$v$route]="${BUSY[$v$route]:-} $(awk -v b="$((b1 - b0))" -v t="$((t1 - t0))" 'BEGIN { printf "%.0f", t ? 100 * b / t : 0 }')"
      RPS[$v$route]="${RPS[$v$route]:-} $r"
      CPU[$v$route]="${CPU[$v$route]:-} $c"
      CMD[$v$route]="${CMD[$v$route]:-} $(awk -v d="$((after - before))" -v n="$n" 'BEGIN { printf "%.3f", d / n }')"
    done
  done
done
for key in "${!RPS[@]}"; do
  RPS[$key]=$(echo "${RPS[$key]}" | median)
  CPU[$key]=$(echo "${CPU[$key]}" | median)
  CMD[$key]=$(echo "${CMD[$key]}" | median)
  RCPU[$key]=$(echo "${RCPU[$key]}" | median)
  BUSY[$key]=$(echo "${BUSY[$key]}" | median)
done

printf '\naxum 0.8, one worker thread, wrk -c%s, median of %s rounds of %ss, 1000 sessions, random cookie per request\n\n' "$C" "$ROUNDS" "$SECS"
printf '| route | layer | req/s | session cost µs/req (1/rps - 1/rps_raw) | app CPU µs/req | session CPU µs/req | Redis commands/req | Redis CPU µs/req | CPU 0 busy (wrk + Redis) |\n|---|---|---|---|---|---|---|---|---|\n'
for route in $routes; do
  [ "$route" = /raw ] && continue
  for v in $variants; do
    [ "$v" = none ] && continue
    awk -v r="$route" -v v="$v" -v x="${RPS[$v$route]}" -v b="${RPS[$v/raw]}" -v c="${CPU[$v$route]}" -v cb="${CPU[$v/raw]}" -v k="${CMD[$v$route]}" -v rc="${RCPU[$v$route]}" -v u="${BUSY[$v$route]}" '
      BEGIN { printf "| %s | %s | %.0f | %.1f | %.1f | %.1f | %s | %s | %s%% |\n", r, v, x, (1/x - 1/b) * 1e6, c, c - cb, k, rc, u }'
  done
done
printf '| /raw | none | %.0f | — | %.1f | — | — | — | %s%% |\n' "${RPS[none/raw]}" "${CPU[none/raw]}" "${BUSY[none/raw]}"
