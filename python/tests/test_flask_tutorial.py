"""Migration: the auth part of Flask's tutorial app (``flaskr``: register, login with
``session.clear()`` then ``session["user_id"]``, ``g.user`` loaded per request, logout with
``session.clear()``, errors shown with ``flash``), run unchanged from Flask's own sdist with
one line added: ``polysession.flask.Session(app)``. Over real HTTP, on memory and Redis."""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import re
import sys
import tarfile
import uuid
from pathlib import Path

import pytest

import polysession.flask
from conftest import cookie_of


@pytest.fixture(scope="module")
def flaskr(tmp_path_factory):
    """The tutorial's ``flaskr`` package, from the sdist of the installed Flask."""
    sdists = Path(os.environ.get("POLYSESSION_SDISTS", Path.home() / ".cache/polysession/sdists"))
    sdist = sdists / f"flask-{importlib.metadata.version('flask')}.tar.gz"
    if not sdist.exists():
        msg = f"Flask's sdist is not at {sdist}: bash scripts/python.sh build downloads it"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    root = tmp_path_factory.mktemp("tutorial")
    with tarfile.open(sdist) as tar:
        members = [m for m in tar.getmembers() if "/examples/tutorial/flaskr/" in m.name]
        tar.extractall(root, members=members)
    (tutorial,) = root.glob("flask-*/examples/tutorial")
    sys.path.insert(0, str(tutorial))
    try:
        yield importlib.import_module("flaskr")
    finally:
        sys.path.remove(str(tutorial))
        for name in [n for n in sys.modules if n == "flaskr" or n.startswith("flaskr.")]:
            del sys.modules[name]


def make_app(flaskr, tmp_path, **options):
    app = flaskr.create_app({"DATABASE": str(tmp_path / "flaskr.sqlite"), "SECRET_KEY": "dev"})
    polysession.flask.Session(app, **options)  # the one line added
    with app.app_context():
        from flaskr.db import init_db

        init_db()
    return app


def title(html):
    return re.sub(r"\s+", " ", html)


@pytest.mark.parametrize("provider", ["memory", "redis"])
def test_the_tutorials_auth_runs_unchanged(flaskr, tmp_path, serve_wsgi, provider, request):
    options = {}
    if provider == "redis":
        addr = request.getfixturevalue("redis_addr")
        options = {"provider": "redis", "providerConfig": json.dumps({"save_path": addr, "prefix": f"flaskr{uuid.uuid4().hex[:8]}:"})}
    s = serve_wsgi(make_app(flaskr, tmp_path, **options))

    # Register, then log in with a wrong password: the error is flashed through the session
    # and shown (and taken) in the same request, so no session is left behind.
    r = s.post("/auth/register", data={"username": "ada", "password": "lovelace"})
    assert r.status_code == 302 and r.headers["location"].endswith("/auth/login")
    r = s.post("/auth/login", data={"username": "ada", "password": "wrong"})
    assert r.status_code == 200 and "Incorrect password." in r.text
    assert "set-cookie" not in r.headers

    # Log in: session.clear() then session["user_id"]; g.user is loaded on the next requests.
    r = s.post("/auth/login", data={"username": "ada", "password": "lovelace"})
    assert r.status_code == 302 and r.headers["location"] == "/"
    first = cookie_of(r)
    assert first
    page = title(s.get("/", cookie=first).text)
    assert "<span>ada</span>" in page and "Log Out" in page
    assert s.get("/create", cookie=first).status_code == 200

    # Logging in again over a session clears it: the session starts over under a new id, and
    # the old id no longer logs anyone in.
    r = s.post("/auth/login", cookie=first, data={"username": "ada", "password": "lovelace"})
    after = cookie_of(r)
    assert r.status_code == 302 and after and after != first
    assert s.get("/create", cookie=after).status_code == 200
    assert s.get("/create", cookie=first).status_code == 302

    # Log out: session.clear() leaves the session empty: the record and the cookie go.
    r = s.get("/auth/logout", cookie=after)
    assert r.status_code == 302
    removal = r.headers["set-cookie"]
    assert removal.startswith("session=;") and ("Max-Age=0" in removal or "1970" in removal), removal
    r = s.get("/create", cookie=after)
    assert r.status_code == 302 and r.headers["location"].endswith("/auth/login")
    assert "Log In" in s.get("/", cookie=after).text
