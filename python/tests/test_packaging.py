"""Packaging: the abi3 wheel (``bash scripts/python.sh pack``) installs into a fresh venv with
no package index (Flask from a local wheelhouse), and the README's Flask example runs from it
over real HTTP; the sdist carries what a build needs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import time
import venv
from pathlib import Path

import httpx
import pytest

from conftest import free_port, service

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "python" / "dist"


def need(path: Path, what: str) -> Path:
    if not path.exists():
        msg = f"{what} is missing at {path}: run bash scripts/python.sh pack"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return path


def newest(pattern: str) -> Path:
    found = sorted(DIST.glob(pattern), key=lambda p: p.stat().st_mtime)
    return need(found[-1] if found else DIST / pattern, pattern)


def readme_example() -> str:
    readme = (ROOT / "README.md").read_text()
    at = readme.index("<!-- python-readme-example")
    m = re.search(r"```python\n(.*?)```", readme[at:], re.S)
    assert m, "the README marks its Flask example"
    return m.group(1)


def test_the_wheel_installs_offline_and_runs_the_readme_example(tmp_path):
    service("POLYSESSION_REDIS", "127.0.0.1:6379", "Redis")
    wheel = newest("polysession-*-cp39-abi3-*.whl")
    wheelhouse = need(Path(os.environ.get("POLYSESSION_WHEELHOUSE", Path.home() / ".cache/polysession/wheelhouse")), "Flask's wheels")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-index", "--find-links", str(wheelhouse), str(wheel), "flask"],
        check=True,
    )
    app = tmp_path / "app.py"
    app.write_text(readme_example())
    port = free_port()
    server = subprocess.Popen(
        [str(python), "-c", f"from werkzeug.serving import run_simple; from app import app; run_simple('127.0.0.1', {port}, app)"],
        cwd=tmp_path,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 20
        while True:
            try:
                first = httpx.get(url)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None, "the example did not start"
                time.sleep(0.1)
        assert first.text == "views: 1"
        cookie = first.headers["set-cookie"].split(";")[0]
        assert httpx.get(url, headers={"cookie": cookie}).text == "views: 2"
        where = subprocess.run(
            [str(python), "-c", "import polysession._native as n; print(n.__file__)"], capture_output=True, text=True, cwd="/"
        ).stdout
        assert str(env_dir) in where, "the module comes from the installed wheel"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_sdist_carries_the_sources():
    sdist = newest("polysession-*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = tar.getnames()
    top = names[0].split("/")[0]
    for needed in ["pyproject.toml", "polysession/flask.py", "polysession/_native.pyi", "polysession/py.typed"]:
        assert any(n.endswith(needed) for n in names), needed
    # The Rust sources of the module and of the crates it builds on.
    for crate in ["src/lib.rs", "core/src/lib.rs", "bindings/src/lib.rs", "providers/src/lib.rs"]:
        assert any(n.startswith(top) and n.endswith(crate) for n in names), crate
    assert sys.version_info >= (3, 9)
