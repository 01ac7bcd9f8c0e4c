#!/usr/bin/env bash
# Fuzzing: runs every cargo-fuzz target in fuzz/ (or the ones named) for a given time each,
# from the seeds (tests/vectors, via fuzz/seeds.py), the inputs that once failed
# (fuzz/regressions/<target>/) and the corpus kept between runs on this machine. Prints the
# executions per target and the running total; exits non-zero on the first crash, naming
# the input that caused it.
#
# Usage: bash scripts/fuzz.sh [seconds per target, default 60] [target...]
#
# The targets are built with nightly (cargo fuzz needs it), optimised, with debug
# assertions and overflow checks, and without a sanitizer: the code they reach has no
# `unsafe` (one libc call in the file provider, which they do not reach), and ASan would
# halve the executions. A crash found becomes a regression test in the crate it concerns, and
# its input goes to fuzz/regressions/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

EACH=${1:-60}
[ $# -gt 0 ] && shift
CACHE=${POLYSESSION_FUZZ_CACHE:-$HOME/.cache/polysession}
FUZZ_TARGET_DIR=$CACHE/fuzz-target
CORPUS=$CACHE/fuzz-corpus
TOTALS=$CACHE/fuzz-executions.log

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  rustup toolchain install nightly --profile minimal
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 fuzz/seeds.py "$work/seeds" >/dev/null

build=(-O -a -s none --target-dir "$FUZZ_TARGET_DIR")
cargo +nightly fuzz build "${build[@]}"
if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo +nightly fuzz list)
fi

printf '\n%-9s %14s %10s %8s\n' target executions "exec/s" corpus
run_total=0
for t in "${targets[@]}"; do
  mkdir -p "$CORPUS/$t" "$work/artifacts/$t" fuzz/regressions/"$t"
  log="$work/$t.log"
  if ! cargo +nightly fuzz run "${build[@]}" "$t" "$CORPUS/$t" "$work/seeds/$t" "fuzz/regressions/$t" -- \
      -max_total_time="$EACH" -max_len=8192 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$work/artifacts/$t/" >"$log" 2>&1; then
    echo "fuzz target $t failed:" >&2
    grep -E -A8 "panicked|ERROR: libFuzzer|timeout|out-of-memory" "$log" | head -40 >&2 || tail -40 "$log" >&2
    for crash in "$work"/artifacts/"$t"/*; do
      [ -e "$crash" ] || continue
      mkdir -p fuzz/artifacts/"$t"
      cp "$crash" fuzz/artifacts/"$t"/
      echo "input kept in fuzz/artifacts/$t/$(basename "$crash"); replay with:" >&2
      echo "  cargo +nightly fuzz run ${build[*]} $t fuzz/artifacts/$t/$(basename "$crash")" >&2
    done
    exit 1
  fi
  execs=$(awk '/stat::number_of_executed_units:/ { print $2 }' "$log" | tail -1)
  rate=$(awk '/stat::average_exec_per_sec:/ { print $2 }' "$log" | tail -1)
  size=$(find "$CORPUS/$t" -type f | wc -l)
  printf '%-9s %14d %10d %8d\n' "$t" "${execs:-0}" "${rate:-0}" "$size"
  run_total=$((run_total + ${execs:-0}))
  echo "$(date -u +%FT%TZ) $t ${execs:-0}" >>"$TOTALS"
done
all=$(awk '{ s += $3 } END { print s + 0 }' "$TOTALS")
printf '%-9s %14d\n' "this run" "$run_total"
printf '%-9s %14d   (every run on this machine, from %s)\n' "all runs" "$all" "$TOTALS"
echo "no crash"
