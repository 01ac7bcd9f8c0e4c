"""The plain WSGI and ASGI middlewares, around bare callables (no framework), over real HTTP:
``environ["session"]`` / ``scope["session"]``, login with regenerate, logout with destroy, a
store outage."""

from __future__ import annotations

import json

import polysession
from conftest import cookie_of, free_port
from polysession import asgi, wsgi


def wsgi_app(environ, start_response):
    session = environ["session"]
    path = environ["PATH_INFO"]
    if path == "/login":
        wsgi.regenerate(environ)
        session["user"] = "ada"
    elif path == "/logout":
        wsgi.destroy(environ)
    else:
        session["views"] = session.get("views", 0) + 1
    start_response("200 OK", [("Content-Type", "application/json"), ("Cache-Control", "private")])
    return [json.dumps(session).encode()]


async def asgi_app(scope, receive, send):
    session = scope["session"]
    if scope["path"] == "/login":
        await asgi.regenerate(scope)
        session["user"] = "ada"
    elif scope["path"] == "/logout":
        await asgi.destroy(scope)
    else:
        session["views"] = session.get("views", 0) + 1
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": json.dumps(session).encode()})


def check(s):
    first = s.get("/")
    assert first.json() == {"views": 1}
    cookie = cookie_of(first)
    assert s.get("/", cookie=cookie).json() == {"views": 2}
    login = s.get("/login", cookie=cookie)
    renewed = cookie_of(login)
    assert login.json() == {"views": 2, "user": "ada"} and renewed != cookie
    assert s.get("/", cookie=cookie).json() == {"views": 1}, "the old id is dead"
    assert s.get("/", cookie=renewed).json() == {"views": 3, "user": "ada"}
    out = s.get("/logout", cookie=renewed)
    assert out.json() == {} and "Max-Age=0" in out.headers["set-cookie"]
    assert s.get("/", cookie=renewed).json() == {"views": 1}
    return first


def test_plain_wsgi(serve_wsgi):
    first = check(serve_wsgi(wsgi.SessionMiddleware(wsgi_app, {"cookieName": "sid"})))
    assert first.headers["set-cookie"].startswith("sid=")
    # The app's Cache-Control is kept, no-store added.
    assert first.headers["cache-control"] == "private, no-store"
    assert first.headers["vary"] == "Cookie"


def test_plain_asgi(serve_asgi):
    check(serve_asgi(asgi.SessionMiddleware(asgi_app)))


def test_outages(serve_wsgi, serve_asgi):
    dead = {"provider": "redis", "providerConfig": json.dumps({"save_path": f"127.0.0.1:{free_port()}", "timeout_ms": 300})}
    for s in [serve_wsgi(wsgi.SessionMiddleware(wsgi_app, dead)), serve_asgi(asgi.SessionMiddleware(asgi_app, dead))]:
        r = s.get("/", cookie="beegosessionID=" + "a" * 32)
        assert r.status_code == 503
        assert r.text == polysession.error_response("STORE_UNAVAILABLE")[2]
