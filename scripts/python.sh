#!/usr/bin/env bash
# The pip package polysession (python/): a venv with maturin and the test frameworks, the
# native module (pyo3) built into the source tree, and pytest on real servers.
# Usage: bash scripts/python.sh build|pack|test|all   (scripts/test.sh sources it)
set -euo pipefail

PY_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY_CACHE=${POLYSESSION_CACHE:-$HOME/.cache/polysession}
# maturin builds in a target directory of its own: it sets PYO3_BUILD_EXTENSION_MODULE and
# the venv's interpreter, which would otherwise rebuild pyo3 in the shared one at every switch
# between cargo test and maturin.
PY_TARGET_DIR=$PY_CACHE/target-python
PY_VENV=${POLYSESSION_VENV:-$PY_CACHE/venv}

python_toolchain() {
  local python=${PYTHON:-python3}
  command -v "$python" >/dev/null 2>&1 || { echo "python3 (>= 3.9) is required" >&2; exit 1; }
  if [ ! -x "$PY_VENV/bin/python" ]; then
    if ! "$python" -m venv "$PY_VENV" 2>/dev/null; then
      # Debian's python3 needs its venv package.
      rm -rf "$PY_VENV"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
      "$python" -m venv "$PY_VENV"
    fi
  fi
  "$PY_VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$PY_ROOT/python/requirements-dev.txt"
  # Flask's sdist carries its tutorial app, which the migration test runs unchanged.
  local flask
  flask=$("$PY_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("flask"))')
  if [ ! -f "$PY_CACHE/sdists/flask-$flask.tar.gz" ]; then
    "$PY_VENV/bin/python" -m pip download --quiet --disable-pip-version-check --no-binary :all: --no-deps \
      -d "$PY_CACHE/sdists" "flask==$flask"
  fi
  "$PY_VENV/bin/python" --version
}

# The native module in the dev profile, put beside the package sources (python/polysession/),
# and the package installed in the venv pointing at them.
python_build() {
  (cd "$PY_ROOT/python" &&
    CARGO_TARGET_DIR=$PY_TARGET_DIR VIRTUAL_ENV=$PY_VENV PATH="$PY_VENV/bin:$PATH" \
      maturin develop --skip-install --features conformance)
  # --skip-install leaves only the module in place; the venv imports the sources directly.
  local site
  site=$("$PY_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  echo "$PY_ROOT/python" >"$site/polysession-dev.pth"
  "$PY_VENV/bin/python" -c 'import polysession._native as n; print("polysession._native:", n.__file__)'
}

# The published artifacts in python/dist: the abi3 wheel (release) and the sdist; and, in
# $PY_CACHE/wheelhouse, the wheels of Flask so the packaging test installs with no index.
python_pack() {
  (cd "$PY_ROOT/python" &&
    CARGO_TARGET_DIR=$PY_TARGET_DIR VIRTUAL_ENV=$PY_VENV PATH="$PY_VENV/bin:$PATH" \
      maturin build --release --strip --out dist &&
    CARGO_TARGET_DIR=$PY_TARGET_DIR PATH="$PY_VENV/bin:$PATH" maturin sdist --out dist)
  local flask
  flask=$("$PY_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("flask"))')
  if ! ls "$PY_CACHE/wheelhouse"/flask-"$flask"-*.whl >/dev/null 2>&1; then
    "$PY_VENV/bin/python" -m pip download --quiet --disable-pip-version-check --only-binary :all: \
      -d "$PY_CACHE/wheelhouse" "flask==$flask"
  fi
  ls "$PY_ROOT"/python/dist/
}

python_test() {
  (cd "$PY_ROOT/python" && POLYSESSION_SDISTS=$PY_CACHE/sdists POLYSESSION_WHEELHOUSE=$PY_CACHE/wheelhouse \
    "$PY_VENV/bin/python" -m pytest -ra tests)
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  case ${1:-all} in
    build) python_toolchain && python_build ;;
    pack) python_toolchain && python_pack ;;
    test) python_test ;;
    all) python_toolchain && python_build && python_pack && python_test ;;
    *) echo "usage: $0 build|pack|test|all" >&2; exit 2 ;;
  esac
fi
