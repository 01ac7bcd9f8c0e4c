#!/usr/bin/env bash
# Installs what is missing, then runs every test suite of every language.
# Usage: bash scripts/test.sh        (CI runs exactly this through .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

# Reuse builds across clones on one machine; works from nothing on a new one.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/polysession/target}
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
export CARGO_INCREMENTAL=0

step() { printf '\n==> %s\n' "$*"; }

ensure_rust() {
  step "Rust toolchain"
  if ! command -v cargo >/dev/null 2>&1; then
    if [ -x "$HOME/.cargo/bin/cargo" ]; then
      export PATH="$HOME/.cargo/bin:$PATH"
    else
      echo "cargo not found: install Rust with rustup first" >&2
      exit 1
    fi
  fi
  if command -v rustup >/dev/null 2>&1; then
    rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
    rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
    rustup target list --installed | grep -q '^wasm32-unknown-unknown$' || rustup target add wasm32-unknown-unknown
  fi
  cargo --version
}

services() {
  step "services on loopback (installed with apt when missing)"
  # shellcheck source=scripts/services.sh
  source "$ROOT/scripts/services.sh"
  start_all
  env | grep '^POLYSESSION_' | sort
}

rust_checks() {
  step "cargo fmt --check"
  cargo fmt --all -- --check
  cargo fmt --manifest-path fuzz/Cargo.toml -- --check
  step "cargo clippy (all targets, warnings are errors)"
  cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
  step "cargo clippy for wasm32-unknown-unknown (core, the host kit and the wasm package)"
  # core's and the kit's own tests are native-only (Send stores); their libraries must pass on wasm32.
  cargo clippy -p polysession-core -p polysession-bindings --lib --target wasm32-unknown-unknown --locked -- -D warnings
  cargo clippy -p polysession-wasm --all-targets --target wasm32-unknown-unknown --locked -- -D warnings
  step "rustdoc (broken links are errors)"
  RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --all-features --locked
  RUSTDOCFLAGS="-D warnings" cargo doc -p polysession-wasm --target wasm32-unknown-unknown --no-deps --locked
}

LOG_DIR=$(mktemp -d)
trap 'rm -rf "$LOG_DIR"' EXIT

rust_tests() {
  step "cargo test (unit, conformance on real servers, HTTP, doc tests)"
  cargo test --workspace --all-features --locked 2>&1 | tee "$LOG_DIR/cargo-test.log"
}

wasm_package() {
  # shellcheck source=scripts/wasm.sh
  source "$ROOT/scripts/wasm.sh"
  step "wasm toolchain (target, wasm-bindgen-cli $(wasm_bindgen_version), npm packages)"
  if ! command -v node >/dev/null 2>&1; then
    source "$ROOT/scripts/services.sh"
    need node nodejs npm
  fi
  node --version
  wasm_toolchain
  step "wasm package build (wasm-bindgen, wasm-opt) and size"
  wasm_build
  step "wasm tests: wasm-bindgen-test in Node, then node --test (cookies, errors, cross-build)"
  # The native demo binary that cargo test built, for the cross-build seal tests.
  export POLYSESSION_DEMO_BIN="$CARGO_TARGET_DIR/debug/polysession-demo"
  wasm_test 2>&1 | tee "$LOG_DIR/wasm-test.log"
}

node_package() {
  # shellcheck source=scripts/node.sh
  source "$ROOT/scripts/node.sh"
  step "node package: npm tools, the native addon (napi-rs), tsc and node --test"
  node_toolchain
  node_build
  node_test 2>&1 | tee "$LOG_DIR/node-test.log"
}

python_package() {
  # shellcheck source=scripts/python.sh
  source "$ROOT/scripts/python.sh"
  step "python package: venv (maturin, pytest, Flask, Starlette, uvicorn), the native module (pyo3), pytest"
  python_toolchain
  python_build
  python_pack
  python_test 2>&1 | tee "$LOG_DIR/python-test.log"
}

# The demo routes' behaviour list (tests/http), once for every host: the Rust demo on memory,
# file, Redis, PostgreSQL and cookie; the Worker example in Node, Deno and workerd; the
# Express example of the Node package; the Flask and Starlette examples of the Python package.
http_suite() {
  step "cross-host behaviour suite (tests/http): Rust demo, Worker, Express, Flask and Starlette examples over real HTTP"
  export POLYSESSION_DEMO_BIN="$CARGO_TARGET_DIR/debug/polysession-demo"
  node --test --test-reporter=spec --test-concurrency=1 tests/http/*.test.js 2>&1 | tee "$LOG_DIR/http-suite.log"
}

# A short fuzzing pass (cargo fuzz, nightly): replays every input that once failed
# (fuzz/regressions) and the corpus kept on this machine, then mutates for a few seconds per
# target. Long runs: bash scripts/fuzz.sh 600.
fuzz_short() {
  step "fuzzing: every target for ${POLYSESSION_FUZZ_SECONDS:-10} s (scripts/fuzz.sh)"
  bash "$ROOT/scripts/fuzz.sh" "${POLYSESSION_FUZZ_SECONDS:-10}"
}

# One closing line over every suite: "N passed, N failed" (cargo and node --test counts).
summary() {
  cat "$LOG_DIR"/*.log | awk '
    /^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
    /^ℹ pass [0-9]+$/ { p += $3 }
    /^ℹ fail [0-9]+$/ { f += $3 }
    /^=+ .*[0-9]+ passed.* in [0-9.]+s/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
    END { printf "tests: %d passed, %d failed\n", p, f }'
}

ensure_rust
rust_checks
services
rust_tests
wasm_package
node_package
python_package
http_suite
fuzz_short
step "all suites passed"
summary
