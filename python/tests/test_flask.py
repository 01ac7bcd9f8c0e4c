"""``polysession.flask.Session`` over real HTTP (werkzeug's threaded server)."""

from __future__ import annotations

import datetime
import json
import threading
import uuid

import pytest
from flask import Flask, flash, get_flashed_messages, jsonify, request, session
from markupsafe import Markup

import polysession
import polysession.flask
from conftest import cookie_of


def counter_app(**options):
    app = Flask(__name__)
    app.config.update(options.pop("config", {}))
    polysession.flask.Session(app, **options)

    @app.route("/")
    def index():
        session["views"] = session.get("views", 0) + 1
        return f"views: {session['views']}"

    @app.route("/peek")
    def peek():
        return jsonify(dict(session))

    @app.route("/set/<key>", methods=["POST"])
    def set_key(key):
        session[key] = request.get_json()
        return "ok"

    @app.route("/clear", methods=["POST"])
    def clear():
        session.clear()
        return "cleared"

    @app.route("/plain")
    def plain():
        return "no session used"

    return app


def test_counter_cookie_and_headers(serve_wsgi):
    s = serve_wsgi(counter_app())
    first = s.get("/")
    assert first.text == "views: 1"
    set_cookie = first.headers["set-cookie"]
    name_value, *attrs = [p.strip() for p in set_cookie.split(";")]
    name, value = name_value.split("=", 1)
    assert name == "session" and len(value) == 32
    assert set(attrs) == {"HttpOnly", "SameSite=Lax", "Path=/"}, set_cookie
    assert "Cookie" in first.headers["vary"]
    assert "no-store" in first.headers["cache-control"]
    cookie = cookie_of(first)
    second = s.get("/", cookie=cookie)
    assert second.text == "views: 2"
    assert "set-cookie" not in second.headers
    assert s.get("/", cookie=cookie).text == "views: 3"
    # A view that does not touch the session sends no cookie.
    assert "set-cookie" not in s.get("/plain").headers


def test_flask_config_keys_map(serve_wsgi):
    from werkzeug.middleware.proxy_fix import ProxyFix

    app = counter_app(
            config={
                "SESSION_COOKIE_NAME": "sid",
                "SESSION_COOKIE_PATH": "/app",
                "SESSION_COOKIE_DOMAIN": "example.test",
                "SESSION_COOKIE_SECURE": True,
                "SESSION_COOKIE_HTTPONLY": False,
                "SESSION_COOKIE_SAMESITE": "Strict",
                "SESSION_PERMANENT": True,
                "PERMANENT_SESSION_LIFETIME": datetime.timedelta(hours=2),
            }
        )
    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1)
    s = serve_wsgi(app)
    # Secure cookies are sent over HTTPS only: here a proxy did TLS (werkzeug's ProxyFix).
    r = s.get("/", headers={"x-forwarded-proto": "https"})
    attrs = {p.strip().split("=")[0]: p.strip() for p in r.headers["set-cookie"].split(";")[1:]}
    assert r.headers["set-cookie"].startswith("sid=")
    assert attrs["Path"] == "Path=/app"
    assert attrs["Domain"] == "Domain=example.test"
    assert attrs["SameSite"] == "SameSite=Strict"
    assert attrs["Max-Age"] == "Max-Age=7200"
    assert "Secure" in attrs and "HttpOnly" not in attrs


def test_session_permanent_sets_the_cookie_lifetime_of_that_session(serve_wsgi):
    def app_with(config):
        app = counter_app(config={"PERMANENT_SESSION_LIFETIME": datetime.timedelta(hours=1), **config})

        @app.route("/login")
        def login():
            session["user"] = "ann"
            session.permanent = request.args.get("remember") == "1"
            return "in"

        @app.route("/forget")
        def forget():
            session.permanent = False
            return "forgotten"

        return app

    def lifetime(r):
        attrs = {p.strip().split("=")[0] for p in r.headers["set-cookie"].split(";")[1:]}
        max_age = [p.strip() for p in r.headers["set-cookie"].split(";") if p.strip().startswith("Max-Age=")]
        assert ("Expires" in attrs) == bool(max_age), r.headers["set-cookie"]
        return max_age[0] if max_age else None

    s = serve_wsgi(app_with({}))
    # Flask's default: a cookie that ends with the browser.
    assert lifetime(s.get("/")) is None
    # "Remember me": this session's cookie lasts PERMANENT_SESSION_LIFETIME ...
    r = s.get("/login?remember=1")
    assert lifetime(r) == "Max-Age=3600"
    cookie = cookie_of(r)
    assert s.get("/peek", cookie=cookie).json() == {"user": "ann", "_permanent": True}
    # ... and is sent again with each change, as Flask does ...
    r = s.get("/", cookie=cookie)
    assert lifetime(r) == "Max-Age=3600" and cookie_of(r) == cookie
    # ... until it is made a browser-session cookie again, under the same id.
    r = s.get("/forget", cookie=cookie)
    assert lifetime(r) is None and cookie_of(r) == cookie
    assert lifetime(s.get("/login")) is None
    # SESSION_PERMANENT makes every session permanent, unless it says otherwise.
    s = serve_wsgi(app_with({"SESSION_PERMANENT": True}))
    assert lifetime(s.get("/")) == "Max-Age=3600"
    assert lifetime(s.get("/login")) is None


def test_bad_cookies_give_a_fresh_session(serve_wsgi):
    s = serve_wsgi(counter_app())
    for bad in ["session=", "session=zz", "session=" + "a" * 5000, "session=%ff%fe", "session=\u00e9t\u00e9"]:
        r = s.get("/", headers={"cookie": bad.encode("utf-8")})
        assert r.status_code == 200, bad
        assert r.text == "views: 1", bad


def test_flask_tagged_values_and_flash(serve_wsgi):
    app = Flask(__name__)
    app.secret_key = "not used by server-side sessions"
    polysession.flask.Session(app)
    when = datetime.datetime(2026, 12, 1, 12, 30, tzinfo=datetime.timezone.utc)
    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")

    @app.route("/store")
    def store():
        session["when"] = when
        session["raw"] = b"\x00\xffbytes"
        session["pair"] = (1, "two")
        session["markup"] = Markup("<b>bold</b>")
        session["uuid"] = ident
        session["nested"] = {"a": [1, {"b": (2, 3)}]}
        flash("saved", "info")
        return "stored"

    @app.route("/load")
    def load():
        ok = (
            session["when"] == when
            and session["raw"] == b"\x00\xffbytes"
            and session["pair"] == (1, "two")
            and session["markup"] == Markup("<b>bold</b>")
            and session["uuid"] == ident
            and session["nested"] == {"a": [1, {"b": (2, 3)}]}
        )
        return jsonify(ok=ok, flashes=get_flashed_messages(with_categories=True))

    s = serve_wsgi(app)
    cookie = cookie_of(s.get("/store"))
    first = s.get("/load", cookie=cookie).json()
    assert first == {"ok": True, "flashes": [["info", "saved"]]}
    # Flashes are shown once.
    assert s.get("/load", cookie=cookie).json()["flashes"] == []


def test_nested_changes_are_saved_without_modified(serve_wsgi):
    app = Flask(__name__)
    polysession.flask.Session(app)

    @app.route("/cart/<item>", methods=["POST"])
    def add(item):
        # In-place change: Flask's own session would need session.modified = True.
        session.setdefault("cart", []).append(item)
        return jsonify(session["cart"])

    s = serve_wsgi(app)
    cookie = cookie_of(s.post("/cart/apple"))
    assert s.post("/cart/pear", cookie=cookie).json() == ["apple", "pear"]
    assert s.post("/cart/fig", cookie=cookie).json() == ["apple", "pear", "fig"]


def test_clear_empties_the_session(serve_wsgi):
    s = serve_wsgi(counter_app())
    cookie = cookie_of(s.get("/"))
    s.get("/", cookie=cookie)
    s.post("/clear", cookie=cookie)
    assert s.get("/peek", cookie=cookie).json() == {}
    assert s.get("/", cookie=cookie).text == "views: 1"


def test_a_value_json_cannot_hold_is_an_error_and_the_session_is_kept(serve_wsgi):
    app = counter_app()

    @app.route("/bad")
    def bad():
        session["tags"] = {"a", "b"}
        return "unreachable"

    s = serve_wsgi(app)
    cookie = cookie_of(s.get("/"))
    r = s.get("/bad", cookie=cookie)
    assert r.status_code == 500
    assert s.get("/peek", cookie=cookie).json() == {"views": 1}


def test_redis_sessions_are_shared_between_apps(serve_wsgi, redis_addr):
    options = {"provider": "redis", "providerConfig": json.dumps({"save_path": redis_addr, "prefix": f"pytest{uuid.uuid4().hex[:8]}:"})}
    one = serve_wsgi(counter_app(**options))
    two = serve_wsgi(counter_app(**options))
    cookie = cookie_of(one.get("/"))
    assert two.get("/", cookie=cookie).text == "views: 2"
    assert one.get("/", cookie=cookie).text == "views: 3"


def test_a_store_outage_is_a_503_with_the_kits_response(serve_wsgi):
    port = __import__("conftest").free_port()
    s = serve_wsgi(counter_app(provider="redis", providerConfig=json.dumps({"save_path": f"127.0.0.1:{port}", "timeout_ms": 300})))
    r = s.get("/", cookie="session=" + "a" * 32)
    assert r.status_code == 503
    assert r.headers["retry-after"]
    assert r.text == "503 session store unavailable, please retry (STORE_UNAVAILABLE)\n"
    assert "127.0.0.1" not in r.text


@pytest.mark.parametrize("provider", ["memory", "redis"])
def test_fifty_threads_write_different_keys_of_one_session(serve_wsgi, provider, request):
    options = {}
    if provider == "redis":
        addr = request.getfixturevalue("redis_addr")
        options = {"provider": "redis", "providerConfig": json.dumps({"save_path": addr, "prefix": f"pytest{uuid.uuid4().hex[:8]}:"})}
    s = serve_wsgi(counter_app(**options))
    cookie = cookie_of(s.get("/"))
    errors = []

    def write(i):
        try:
            r = s.post(f"/set/k{i}", cookie=cookie, json=i)
            assert r.status_code == 200, r.text
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    data = s.get("/peek", cookie=cookie).json()
    assert {k: data[k] for k in data if k.startswith("k")} == {f"k{i}": i for i in range(50)}
    assert data["views"] == 1


def test_errors_have_codes_and_classes():
    with pytest.raises(polysession.BadConfigError) as e:
        polysession.Manager({"maxLifetime": -1})
    assert isinstance(e.value, polysession.Error)
    assert e.value.code == "BAD_CONFIG" and e.value.status == 500
    with pytest.raises(polysession.Error) as e:
        polysession.Manager({"provider": "nope"})
    assert e.value.code == "UNKNOWN_PROVIDER"
    with pytest.raises(polysession.BadConfigError):
        polysession.Manager({"noSuchOption": 1})
