#!/usr/bin/env bash
# Session cost in Flask and Starlette: polysession against Flask's signed-cookie session,
# Flask-Session on Redis and Starlette's SessionMiddleware, and against no session, in one
# run with wrk: 1000 pre-created sessions, a random cookie per request, routes /read, /write,
# /untouched. Prints req/s and the session cost in µs per request, 1/rps_with - 1/rps_without
# (the same route on the same framework with no session), as the median of interleaved
# rounds, and the app's CPU per request. Flask runs under gunicorn (1 worker, 4 threads),
# Starlette under uvicorn (1 worker), on CPU 1; wrk and Redis on CPU 0 (taskset). polysession
# is the release wheel (scripts/python.sh pack), installed in a venv of its own.
# Usage: bash bench/python-http.sh [connections] [seconds] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
C=${1:-16}
SECS=${2:-4}
ROUNDS=${3:-3}
source scripts/services.sh
need wrk wrk
start_redis
CACHE=${POLYSESSION_CACHE:-$HOME/.cache/polysession}
bash scripts/python.sh pack >/dev/null
VENV=$CACHE/bench-venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
PY=$VENV/bin/python
"$PY" -m pip install --quiet --disable-pip-version-check -r python/requirements-dev.txt -r python/requirements-bench.txt
wheel=$(ls -t python/dist/polysession-*-abi3-*.whl | head -1)
"$PY" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "$wheel"

WORK=$(mktemp -d)
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

flask_variants="flask-none flask-polysession-memory flask-polysession-redis flask-cookie flask-session-redis"
starlette_variants="starlette-none starlette-polysession-cookie starlette-polysession-memory starlette-session"
variants="$flask_variants $starlette_variants"
port=18300
declare -A PORT APP
for v in $variants; do
  port=$((port + 1))
  PORT[$v]=$port
  if [[ $v == flask-* ]]; then
    BENCH_VARIANT=$v taskset -c 1 "$PY" -m gunicorn -w 1 --threads 4 -b "127.0.0.1:$port" --chdir bench/python \
      --log-level warning 'app:flask_app()' >/dev/null 2>&1 &
  else
    BENCH_VARIANT=$v taskset -c 1 "$PY" -m uvicorn --app-dir bench/python --factory app:starlette_app \
      --host 127.0.0.1 --port "$port" --log-level warning --no-access-log >/dev/null 2>&1 &
  fi
  PIDS+=($!)
  APP[$v]=$!
done
source bench/lib.sh
for v in $variants; do wait_port "${PORT[$v]}" "$v"; done
for v in $variants; do
  "$PY" bench/python/seed.py "http://127.0.0.1:${PORT[$v]}" 1000 >"$WORK/$v.cookies"
  [ -s "$WORK/$v.cookies" ] || echo "x=1" >"$WORK/$v.cookies"
done

declare -A RPS CPU
measure 1

printf '\nwrk -c%s, median of %s rounds of %ss, 1000 sessions, random cookie per request (%s)\n' "$C" "$ROUNDS" "$SECS" "$("$PY" --version)"
for group in flask starlette; do
  [ "$group" = flask ] && list=$flask_variants || list=$starlette_variants
  printf '\n| route | layer | req/s | session cost µs/req (1/rps) | app CPU µs/req | session CPU µs/req |\n|---|---|---|---|---|---|\n'
  for route in /read /write /untouched; do
    base=${RPS[$group-none$route]}
    cbase=${CPU[$group-none$route]}
    for v in $list; do
      awk -v r="$route" -v v="$v" -v x="${RPS[$v$route]}" -v b="$base" -v c="${CPU[$v$route]}" -v cb="$cbase" '
        BEGIN {
          none = (v ~ /-none$/)
          cost = none ? "—" : sprintf("%.1f", (1/x - 1/b) * 1e6)
          ccost = none ? "—" : sprintf("%.1f", c - cb)
          printf "| %s | %s | %.0f | %s | %.1f | %s |\n", r, v, x, cost, c, ccost
        }'
    done
  done
done
