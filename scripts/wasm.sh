#!/usr/bin/env bash
# The npm package polysession-wasm: toolchain, build, size report, tests.
# Usage: bash scripts/wasm.sh build|test|size|bench   (scripts/test.sh sources it for `wasm_all`)
set -euo pipefail

WASM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/polysession/target}
TOOLS=${POLYSESSION_TOOLS:-$HOME/.cache/polysession/tools}
export PATH="$TOOLS/bin:$PATH"
PKG="$WASM_ROOT/wasm/pkg"

# The wasm-bindgen version Cargo.lock resolved; the CLI must be exactly the same.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' "$WASM_ROOT/Cargo.lock"
}

wasm_toolchain() {
  if command -v rustup >/dev/null 2>&1; then
    rustup target list --installed | grep -q '^wasm32-unknown-unknown$' || rustup target add wasm32-unknown-unknown
  fi
  local want have=""
  want=$(wasm_bindgen_version)
  if command -v wasm-bindgen >/dev/null 2>&1; then
    have=$(wasm-bindgen --version | awk '{ print $2 }')
  fi
  if [ "$have" != "$want" ] || ! command -v wasm-bindgen-test-runner >/dev/null 2>&1; then
    echo "installing wasm-bindgen-cli $want (found: ${have:-none}); this takes a few minutes"
    # Not --locked: the CLI's own lock file may name crates this registry lacks.
    cargo install wasm-bindgen-cli --version "=$want" --root "$TOOLS" --force
  fi
  command -v node >/dev/null 2>&1 || { echo "node (>= 20) is required" >&2; exit 1; }
  # npm install, not npm ci: the registry here lacks some optional packages of other platforms.
  (cd "$WASM_ROOT/wasm" && npm install --no-audit --no-fund --loglevel=error)
}

wasm_build() {
  cargo build -p polysession-wasm --target wasm32-unknown-unknown --profile wasm-release --locked
  rm -rf "$PKG"
  wasm-bindgen --target web --weak-refs --out-dir "$PKG" --out-name polysession_wasm \
    "$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/polysession_wasm.wasm"
  # npm's binaryen: Debian's (108) breaks wasm-bindgen output.
  "$WASM_ROOT/wasm/node_modules/.bin/wasm-opt" -Oz --converge --strip-debug --strip-producers \
    --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$PKG/polysession_wasm_bg.wasm" -o "$PKG/polysession_wasm_bg.wasm"
  wasm_size
}

wasm_size() {
  local file="$PKG/polysession_wasm_bg.wasm" raw gz
  raw=$(wc -c <"$file")
  gz=$(gzip -9 -c "$file" | wc -c)
  awk -v r="$raw" -v g="$gz" 'BEGIN { printf "polysession_wasm_bg.wasm after wasm-opt -Oz --converge: %d bytes raw (%.1f KiB), %d bytes gzip -9 (%.1f KiB)\n", r, r / 1024, g, g / 1024 }' \
    | tee "$PKG/size.txt"
  # A budget, so that a change linking something large (float printing is 9 KB gzip) fails
  # the test command instead of passing unseen. Raise it on purpose, with the reason.
  local budget=${POLYSESSION_WASM_GZIP_BUDGET:-156000}
  if [ "$gz" -gt "$budget" ]; then
    echo "polysession_wasm_bg.wasm is $gz bytes gzip, over the budget of $budget (POLYSESSION_WASM_GZIP_BUDGET)" >&2
    return 1
  fi
}

# Rust tests in Node (wasm-bindgen-test), then the JS suites in wasm/test.
wasm_test() {
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
    cargo test -p polysession-wasm --target wasm32-unknown-unknown --locked
  (cd "$WASM_ROOT/wasm" && node_modules/.bin/tsc -p tsconfig.json && node --test --test-reporter=spec test/*.test.js)
}

wasm_all() {
  wasm_toolchain
  wasm_build
  wasm_test
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  case "${1:-all}" in
    build) wasm_toolchain; wasm_build ;;
    test) wasm_test ;;
    size) wasm_size ;;
    bench) (cd "$WASM_ROOT/wasm" && node bench/seal.js) ;;
    all) wasm_all ;;
    *) echo "usage: $0 build|test|size|bench|all" >&2; exit 2 ;;
  esac
fi
