#!/usr/bin/env bash
# The npm package polysession (node/): npm tools, the native addon (napi-rs), tests.
# Usage: bash scripts/node.sh build|release|pack [dir]|test|all   (scripts/test.sh sources it)
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
# The publishable tarballs in $1 (default node/dist): polysession-wasm (its one dependency) and
# polysession with the platform binary inside: the release addon when it is built, else the
# test build, stripped. The `file:../wasm` dependency becomes the wasm package's version.
node_pack() {
  local out=${1:-$NODE_ROOT/node/dist} stage addon
  mkdir -p "$out"
  out=$(cd "$out" && pwd)
  (cd "$NODE_ROOT/wasm" && npm pack --silent --pack-destination "$out" >/dev/null)
  stage=$(mktemp -d)
  (cd "$NODE_ROOT/node" && cp -r package.json index.js index.d.ts binding.js binding.d.ts js "$stage"/)
  addon="$CARGO_TARGET_DIR/release/libpolysession_node.so"
  [ -f "$addon" ] || addon="$NODE_ROOT/node/polysession.linux-x64-gnu.node"
  strip --strip-debug -o "$stage/polysession.linux-x64-gnu.node" "$addon"
  node -e '
    const fs = require("fs");
    const [dir, wasm] = process.argv.slice(1);
    const pkg = JSON.parse(fs.readFileSync(dir + "/package.json"));
    pkg.dependencies["polysession-wasm"] = JSON.parse(fs.readFileSync(wasm + "/package.json")).version;
    delete pkg.devDependencies;
    delete pkg.scripts;
    fs.writeFileSync(dir + "/package.json", JSON.stringify(pkg, null, 2) + "\n");
  ' "$stage" "$NODE_ROOT/wasm"
  (cd "$stage" && npm pack --silent --pack-destination "$out" >/dev/null)
  rm -rf "$stage"
  ls "$out"/*.tgz
}

node_test() {
  (cd "$NODE_ROOT/node" && node_modules/.bin/tsc -p tsconfig.json &&
    node --test --test-reporter=spec --test-concurrency=1 test/*.test.js &&
    POLYSESSION_FORCE_WASM=1 node --test --test-reporter=spec --test-concurrency=1 test/api.test.js test/readme.test.js)
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  case "${1:-all}" in
    build) node_toolchain; node_build ;;
    release) node_toolchain; node_release ;;
    pack) node_pack "${2:-}" ;;
    test) node_test ;;
    all) node_toolchain; node_build; node_test ;;
    *) echo "usage: $0 build|release|pack [dir]|test|all" >&2; exit 2 ;;
  esac
fi
