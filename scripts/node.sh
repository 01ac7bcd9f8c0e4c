#!/usr/bin/env bash
# The npm package polysession (node/): npm tools, the native addon (napi-rs), tests.
# Usage: bash scripts/node.sh build|release|test|all   (scripts/test.sh sources it)
set -euo pipefail

NODE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/polysession/target}

node_toolchain() {
  command -v node >/dev/null 2>&1 || { echo "node (>= 20.19) is required" >&2; exit 1; }
  # npm install, not npm ci: the registry here lacks some optional packages of other platforms.
  (cd "$NODE_ROOT/node" && npm install --no-audit --no-fund --loglevel=error)
}

# The addon in the dev profile (shares the build cache with cargo test), next to package.json
# as napi-rs names it (polysession.<platform>.node), plus the generated binding.js/.d.ts. The
# test build adds `runConformance` (cargo feature `conformance`).
node_build() {
  (cd "$NODE_ROOT/node" && node_modules/.bin/napi build --platform --features conformance --js binding.js --dts binding.d.ts)
}

# The addon as published: release profile, stripped.
node_release() {
  (cd "$NODE_ROOT/node" && node_modules/.bin/napi build --platform --release --strip --js binding.js --dts binding.d.ts)
}

# The tests on the native addon, then the API and README tests again on the wasm fallback.
node_test() {
  (cd "$NODE_ROOT/node" && node_modules/.bin/tsc -p tsconfig.json &&
    node --test --test-reporter=spec --test-concurrency=1 test/*.test.js &&
    POLYSESSION_FORCE_WASM=1 node --test --test-reporter=spec --test-concurrency=1 test/api.test.js test/readme.test.js)
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  case "${1:-all}" in
    build) node_toolchain; node_build ;;
    release) node_toolchain; node_release ;;
    test) node_test ;;
    all) node_toolchain; node_build; node_test ;;
    *) echo "usage: $0 build|release|test|all" >&2; exit 2 ;;
  esac
fi
