# Shared by the HTTP comparison scripts (bench/*-http.sh), sourced after they set C (wrk
# connections), WORK (a temp dir with <variant>.cookies) and the arrays PORT and APP
# (variant -> port, pid).

TICK=$(getconf CLK_TCK)

# user + system ticks of a process and of its children (a gunicorn worker)
cpu() {
  local total=0 p
  for p in $1 $(pgrep -P "$1" || true); do
    total=$((total + $(awk '{ print $14 + $15 }' "/proc/$p/stat")))
  done
  echo "$total"
}

# rps_n VARIANT ROUTE SECONDS -> "req/s cpu-µs-per-request requests" (wrk on CPU 0, a random
# cookie of the variant's list per request; the app's CPU time over the run)
rps_n() {
  local before after out
  before=$(cpu "${APP[$1]}")
  out=$(COOKIES="$WORK/$1.cookies" taskset -c 0 wrk -t1 -c"$C" -d"${3}s" -s bench/node/random-cookie.lua \
    "http://127.0.0.1:${PORT[$1]}$2")
  after=$(cpu "${APP[$1]}")
  echo "$out" | awk -v t="$((after - before))" -v hz="$TICK" '
    / requests in / { n = $1 } /^Requests\/sec/ { r = $2 }
    END { printf "%s %.2f %d\n", r, t / hz * 1e6 / n, n }'
}

# rps VARIANT ROUTE SECONDS -> "req/s cpu-µs-per-request" (wrk on CPU 0, a random cookie of
# the variant's list per request; the app's CPU time over the run)
rps() { rps_n "$@" | awk '{ print $1, $2 }'; }

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# measure WARM_SECONDS: warms every variant on every route, then runs ROUNDS interleaved
# rounds of SECS seconds and leaves the medians in RPS[variant/route] and CPU[variant/route]
# (declare -A RPS CPU first; uses $variants, $ROUNDS, $SECS).
measure() {
  local route v r c key
  for route in /read /write /untouched; do
    for v in $variants; do rps "$v" "$route" "$1" >/dev/null; done # warm up (JIT, connections)
  done
  for _ in $(seq "$ROUNDS"); do
    for route in /read /write /untouched; do
      for v in $variants; do
        read -r r c < <(rps "$v" "$route" "$SECS")
        RPS[$v$route]="${RPS[$v$route]:-} $r"
        CPU[$v$route]="${CPU[$v$route]:-} $c"
      done
    done
  done
  for key in "${!RPS[@]}"; do
    RPS[$key]=$(echo "${RPS[$key]}" | median)
    CPU[$key]=$(echo "${CPU[$key]}" | median)
  done
}
