"""Leaving Flask-Session: ``from flask_session import Session`` becomes
``from polysession.flask import Session`` and the app's Flask-Session config keeps working.

Flask-Session's own README example runs unchanged but for that import, side by side with
Flask-Session 0.8 itself on the same Redis, over real HTTP; each ``SESSION_TYPE`` is served
by a real server (Redis, memcached, PostgreSQL, MariaDB, SQLite, files)."""

from __future__ import annotations

import datetime
import email.utils
import importlib.metadata
import importlib.util
import re
import sqlite3
import sys
import uuid
from pathlib import Path
from typing import Any, Dict

import pytest
from flask import Flask, session

import polysession
import polysession.flask
from conftest import cookie_of

IMPORT = "from flask_session import Session"


def readme_example() -> str:
    """The "A Simple Example" code of Flask-Session's README, from the installed package."""
    readme = importlib.metadata.metadata("flask-session").get_payload()  # type: ignore[attr-defined]
    start = readme.index("from flask import Flask, session")
    end = readme.index("return session.get('key', 'not set')") + len("return session.get('key', 'not set')")
    # The README is reStructuredText: the code block is indented.
    lines = readme[start:end].splitlines()
    return "\n".join(line[4:] if line.startswith("    ") else line for line in lines) + "\n"


def load(source: str, name: str, where: Path) -> Any:
    """``source`` imported as the module ``name`` from a file (the example reads its config
    with ``app.config.from_object(__name__)``, which imports the module by name)."""
    path = where / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def attributes(set_cookie: str) -> Dict[str, str]:
    return {p.split("=", 1)[0].strip().lower(): p.split("=", 1)[-1].strip() for p in set_cookie.split(";")[1:]}


def session_app(config: Dict[str, Any], **options: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(config)
    polysession.flask.Session(app, **options)

    @app.route("/set/<value>")
    def set_value(value: str) -> str:
        session["key"] = value
        return "ok"

    @app.route("/get/")
    def get_value() -> str:
        return str(session.get("key", "not set"))

    @app.route("/login/<user>")
    def login(user: str) -> str:
        session["user"] = user
        app.session_interface.regenerate(session)  # type: ignore[attr-defined]
        return "in"

    @app.route("/count")
    def count() -> str:
        return str(app.extensions["polysession"].manager.count())

    return app


def round_trip(served: Any, value: str = "v1") -> str:
    first = served.get(f"/set/{value}")
    assert first.status_code == 200 and first.text == "ok", first.text
    cookie = cookie_of(first)
    assert cookie is not None
    assert served.get("/get/", cookie=cookie).text == value
    return cookie


def test_flask_sessions_readme_example_runs_unchanged_and_behaves_as_flask_session(serve_wsgi, redis_addr, tmp_path):
    import redis

    example = readme_example()
    assert IMPORT in example and "SESSION_TYPE = 'redis'" in example
    theirs = serve_wsgi(load(example, "flask_session_example", tmp_path).app)
    ours_module = load(example.replace(IMPORT, "from polysession.flask import Session"), "polysession_example", tmp_path)
    assert isinstance(ours_module.app.session_interface, polysession.flask.PolysessionInterface)
    ours = serve_wsgi(ours_module.app)
    client = redis.Redis.from_url(f"redis://{redis_addr}/0")
    try:
        seen = {}
        for name, served in (("flask-session", theirs), ("polysession", ours)):
            first = served.get("/set/")
            assert (first.status_code, first.text) == (200, "ok")
            assert "Cookie" in first.headers["vary"]
            cookie = cookie_of(first)
            assert cookie is not None and cookie.startswith("session=")
            seen[name] = (first.headers["set-cookie"], cookie)
            again = served.get("/get/", cookie=cookie)
            assert (again.status_code, again.text) == (200, "value")
            # No cookie, and a cookie naming no session: a fresh, empty session, no cookie set.
            for bad in (None, "session=nosuchsession", "session=" + "a" * 64, "session=%ff%00;;="):
                r = served.get("/get/", cookie=bad)
                assert (r.status_code, r.text) == (200, "not set"), (name, bad)
                assert "set-cookie" not in r.headers
            # The record is in Redis db 0 under Flask-Session's default prefix.
            assert client.exists("session:" + cookie.split("=", 1)[1]) == 1, name
        theirs_attrs = attributes(seen["flask-session"][0])
        ours_attrs = attributes(seen["polysession"][0])
        # Every attribute Flask-Session sends; in addition Max-Age (the same lifetime) and
        # SameSite=Lax (written out, as with Flask's session).
        assert set(theirs_attrs) == {"expires", "httponly", "path"}, seen["flask-session"][0]
        assert set(ours_attrs) == set(theirs_attrs) | {"max-age", "samesite"}, seen["polysession"][0]
        assert ours_attrs["path"] == theirs_attrs["path"] == "/"
        # SESSION_PERMANENT is True in Flask-Session: the cookie lasts PERMANENT_SESSION_LIFETIME.
        expires = [email.utils.parsedate_to_datetime(a["expires"]) for a in (theirs_attrs, ours_attrs)]
        assert abs((expires[0] - expires[1]).total_seconds()) < 60
        assert ours_attrs["max-age"] == str(31 * 24 * 3600)
        # Each library reads its own sessions only: Flask-Session's ids and msgpack records
        # are another format, so its cookie gives a fresh session here (users sign in again).
        r = ours.get("/get/", cookie=seen["flask-session"][1])
        assert (r.status_code, r.text) == (200, "not set")
    finally:
        for _, cookie in seen.values():
            client.delete("session:" + cookie.split("=", 1)[1])


def test_session_redis_client_and_prefix_go_to_the_native_provider(serve_wsgi, redis_addr):
    import redis

    host, port = redis_addr.rsplit(":", 1)
    prefix = f"fs{uuid.uuid4().hex[:8]}:"
    config = {"SESSION_TYPE": "redis", "SESSION_REDIS": redis.Redis(host=host, port=int(port), db=3), "SESSION_KEY_PREFIX": prefix}
    app = session_app(config)
    assert app.extensions["polysession"].manager.provider == "redis"
    one, two = serve_wsgi(app), serve_wsgi(session_app(config))
    cookie = round_trip(one)
    assert two.get("/get/", cookie=cookie).text == "v1"
    client = redis.Redis(host=host, port=int(port), db=3)
    key = prefix + cookie.split("=", 1)[1]
    try:
        # Flask-Session's SESSION_ID_LENGTH (32 bytes): 64 hex characters here.
        assert len(cookie.split("=", 1)[1]) == 64
        assert client.type(key) == b"hash"
        assert one.get("/count").text == "1"
    finally:
        client.delete(key)


def test_a_redis_client_with_an_acl_user_is_used_as_it_is(serve_wsgi, redis_addr):
    import redis

    host, port = redis_addr.rsplit(":", 1)
    prefix = f"fs{uuid.uuid4().hex[:8]}:"
    client = redis.Redis(host=host, port=int(port), db=4, username="default", password="")
    app = session_app({"SESSION_TYPE": "redis", "SESSION_REDIS": client, "SESSION_KEY_PREFIX": prefix})
    assert app.extensions["polysession"].manager.provider == "kv"
    served = serve_wsgi(app)
    cookie = round_trip(served)
    key = prefix + cookie.split("=", 1)[1]
    try:
        assert client.type(key) == b"string"
        assert 0 < client.ttl(key) <= 31 * 24 * 3600
        # count() lists the client's keys with SCAN.
        assert served.get("/count").text == "1"
    finally:
        client.delete(key)


def test_memcached_with_and_without_a_client(serve_wsgi, memcache_addr):
    from pymemcache.client.base import Client

    prefix = f"fs{uuid.uuid4().hex[:8]}:"
    native = session_app({"SESSION_TYPE": "memcached", "SESSION_KEY_PREFIX": prefix})
    assert native.extensions["polysession"].manager.provider == "memcache"
    cookie = round_trip(serve_wsgi(native))
    bridged_config = {"SESSION_TYPE": "memcached", "SESSION_MEMCACHED": Client(memcache_addr), "SESSION_KEY_PREFIX": prefix}
    bridged = session_app(bridged_config)
    assert bridged.extensions["polysession"].manager.provider == "kv"
    one, two = serve_wsgi(bridged), serve_wsgi(session_app(bridged_config))
    cookie = round_trip(one, "v2")
    assert two.get("/get/", cookie=cookie).text == "v2"
    # PERMANENT_SESSION_LIFETIME is 31 days: memcached reads such an expiry as a Unix time,
    # which the store gives it (a relative one would expire at once).
    stored = Client(memcache_addr).get(prefix + cookie.split("=", 1)[1])
    assert stored is not None


def test_filesystem_and_cachelib(serve_wsgi, tmp_path):
    from cachelib import SimpleCache

    files = session_app({"SESSION_TYPE": "filesystem", "SESSION_FILE_DIR": str(tmp_path / "sessions")})
    assert files.extensions["polysession"].manager.provider == "file"
    served = serve_wsgi(files)
    cookie = round_trip(served)
    sid = cookie.split("=", 1)[1]
    assert (tmp_path / "sessions" / sid[0] / sid[1] / sid).is_file()
    assert serve_wsgi(session_app({"SESSION_TYPE": "filesystem", "SESSION_FILE_DIR": str(tmp_path / "sessions")})).get("/get/", cookie=cookie).text == "v1"

    cache = SimpleCache()
    cached = serve_wsgi(session_app({"SESSION_TYPE": "cachelib", "SESSION_CACHELIB": cache}))
    cookie = round_trip(cached, "v3")
    key = "session:" + cookie.split("=", 1)[1]
    assert cache.get(key) is not None
    # What the client holds under a session's key but is no record (an object, bytes that are
    # not UTF-8, text that is not a record): a fresh session, never an error.
    for junk in ({"not": "a record"}, b"\xff\xfe\x00", "ps1:garbage"):
        cache.set(key, junk)
        r = cached.get("/get/", cookie=cookie)
        assert (r.status_code, r.text) == (200, "not set"), junk


def test_sqlalchemy_instance_on_sqlite(serve_wsgi, tmp_path):
    from flask_sqlalchemy import SQLAlchemy

    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config.update(SESSION_TYPE="sqlalchemy", SQLALCHEMY_DATABASE_URI="sqlite:///app.db")
    db = SQLAlchemy(app)
    app.config["SESSION_SQLALCHEMY"] = db
    polysession.flask.Session(app)

    @app.route("/set/<value>")
    def set_value(value: str) -> str:
        session["key"] = value
        return "ok"

    @app.route("/get/")
    def get_value() -> str:
        return str(session.get("key", "not set"))

    assert app.extensions["polysession"].manager.provider == "sqlite"
    cookie = round_trip(serve_wsgi(app))
    # In Flask-SQLAlchemy's database file (in the instance folder), in polysession's table.
    with sqlite3.connect(tmp_path / "instance" / "app.db") as conn:
        rows = conn.execute("select session_key from session").fetchall()
    assert rows == [(cookie.split("=", 1)[1],)]


@pytest.mark.parametrize("database", ["postgresql", "mariadb"])
def test_sqlalchemy_database_uri_on_real_servers(serve_wsgi, request, database):
    if database == "postgresql":
        addr = request.getfixturevalue("postgres_addr")
        uri = f"postgresql+psycopg2://postgres@{addr}/test"
    else:
        addr = request.getfixturevalue("mysql_addr")
        uri = f"mysql+pymysql://root:@{addr}/test?charset=utf8mb4"
    config = {"SESSION_TYPE": "sqlalchemy", "SQLALCHEMY_DATABASE_URI": uri}
    app = session_app(config)
    assert app.extensions["polysession"].manager.provider == ("postgresql" if database == "postgresql" else "mysql")
    cookie = round_trip(serve_wsgi(app))
    assert serve_wsgi(session_app(config)).get("/get/", cookie=cookie).text == "v1"


def test_regenerate_through_the_session_interface(serve_wsgi, redis_addr):
    prefix = f"fs{uuid.uuid4().hex[:8]}:"
    import redis

    host, port = redis_addr.rsplit(":", 1)
    served = serve_wsgi(session_app({"SESSION_TYPE": "redis", "SESSION_REDIS": redis.Redis(host=host, port=int(port)), "SESSION_KEY_PREFIX": prefix}))
    before = round_trip(served)
    r = served.get("/login/ada", cookie=before)
    after = cookie_of(r)
    assert r.text == "in" and after is not None and after != before
    # The old id stops working; the new one has the data and the login.
    assert served.get("/get/", cookie=before).text == "not set"
    assert served.get("/get/", cookie=after).text == "v1"
    redis.Redis(host=host, port=int(port)).delete(prefix + after.split("=", 1)[1])


def test_session_permanent_false_gives_browser_session_cookies(serve_wsgi, tmp_path):
    served = serve_wsgi(session_app({"SESSION_TYPE": "filesystem", "SESSION_FILE_DIR": str(tmp_path), "SESSION_PERMANENT": False}))
    set_cookie = served.get("/set/x").headers["set-cookie"]
    assert "expires" not in attributes(set_cookie) and "max-age" not in attributes(set_cookie)
    lifetime = {"PERMANENT_SESSION_LIFETIME": datetime.timedelta(hours=2)}
    served = serve_wsgi(session_app({"SESSION_TYPE": "filesystem", "SESSION_FILE_DIR": str(tmp_path), **lifetime}))
    assert attributes(served.get("/set/x").headers["set-cookie"])["max-age"] == "7200"


def test_a_provider_named_in_the_call_wins_over_session_type(serve_wsgi):
    app = session_app({"SESSION_TYPE": "mongodb"}, provider="memory")
    assert app.extensions["polysession"].manager.provider == "memory"
    round_trip(serve_wsgi(app))


@pytest.mark.parametrize(
    "config, message",
    [
        ({"SESSION_TYPE": "mongodb"}, "no polysession provider"),
        ({"SESSION_TYPE": "dynamodb"}, "no polysession provider"),
        ({"SESSION_TYPE": "null"}, "unrecognized SESSION_TYPE 'null'"),
        ({"SESSION_TYPE": "bogus"}, "unrecognized SESSION_TYPE 'bogus'"),
        ({"SESSION_TYPE": "redis", "SESSION_ID_LENGTH": 8}, "sessionIDLength"),
        ({"SESSION_TYPE": "redis", "SESSION_ID_LENGTH": "32"}, "SESSION_ID_LENGTH must be an int"),
        ({"SESSION_TYPE": "sqlalchemy", "SQLALCHEMY_DATABASE_URI": "sqlite://"}, "in-memory SQLite"),
        ({"SESSION_TYPE": "sqlalchemy", "SQLALCHEMY_DATABASE_URI": "mssql+pyodbc://u:p@h/db"}, "'mssql' has no polysession provider"),
        ({"SESSION_TYPE": "sqlalchemy"}, "needs SESSION_SQLALCHEMY or SQLALCHEMY_DATABASE_URI"),
        ({"SESSION_TYPE": "memcached", "SESSION_MEMCACHED": object()}, "has no get() method"),
    ],
)
def test_what_cannot_work_fails_at_startup(config, message):
    with pytest.raises(polysession.BadConfigError, match=re.escape(message)):
        session_app(config)
