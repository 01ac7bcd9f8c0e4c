"""The stubs and inline types: mypy --strict passes on a typed use of the API and on the
package, reports exactly the misuse lines of tests/typing/misuse.py, and stubtest finds the
stubs of the native module true to the built module."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent / "typing"
PACKAGE = Path(__file__).parent.parent


def mypy(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--hide-error-context", *args],
        cwd=PACKAGE,
        capture_output=True,
        text=True,
    )


def test_typed_usage_and_the_package_pass_mypy_strict():
    r = mypy("polysession", str(HERE / "usage.py"))
    assert r.returncode == 0, r.stdout + r.stderr


def test_misuse_is_reported_on_exactly_the_marked_lines():
    source = (HERE / "misuse.py").read_text().splitlines()
    marked = {i + 1 for i, line in enumerate(source) if re.search(r"#\s*error", line)}
    r = mypy(str(HERE / "misuse.py"))
    reported = {int(m.group(1)) for m in re.finditer(r"misuse\.py:(\d+): error", r.stdout)}
    assert marked and reported == marked, r.stdout


def test_stubtest_finds_the_stubs_true_to_the_module():
    r = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "polysession._native", "--allowlist", str(HERE / "stubtest-allowlist.txt")],
        cwd=PACKAGE,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr
