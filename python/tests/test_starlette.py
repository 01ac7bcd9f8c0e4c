"""``polysession.starlette.SessionMiddleware`` as a drop-in for Starlette's, under uvicorn over
real HTTP. The app is the one of Starlette's own session tests (view, update, clear), with
only the import changed; the secret is 32 bytes or more, as sealed cookies need."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

import polysession
from conftest import cookie_of
from polysession.starlette import SessionMiddleware  # the one changed line

SECRET = "a starlette secret of 32 bytes or more"


def view_session(request: Request) -> JSONResponse:
    return JSONResponse({"session": request.session})


async def update_session(request: Request) -> JSONResponse:
    data = await request.json()
    request.session.update(data)
    return JSONResponse({"session": request.session})


async def clear_session(request: Request) -> JSONResponse:
    request.session.clear()
    return JSONResponse({"session": request.session})


async def set_key(request: Request) -> PlainTextResponse:
    request.session[request.path_params["key"]] = await request.json()
    return PlainTextResponse("ok")


def create_app(**kwargs) -> Starlette:
    return Starlette(
        routes=[
            Route("/view_session", endpoint=view_session),
            Route("/update_session", endpoint=update_session, methods=["POST"]),
            Route("/clear_session", endpoint=clear_session, methods=["POST"]),
            Route("/set/{key}", endpoint=set_key, methods=["POST"]),
        ],
        middleware=[Middleware(SessionMiddleware, **kwargs)],
    )


def attrs(set_cookie: str) -> dict:
    out = {}
    for part in set_cookie.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        out[name.lower()] = value
    return out


def test_session(serve_asgi):
    s = serve_asgi(create_app(secret_key=SECRET))
    r = s.get("/view_session")
    assert r.json() == {"session": {}}
    assert "set-cookie" not in r.headers
    r = s.post("/update_session", json={"some": "data"})
    assert r.json() == {"session": {"some": "data"}}
    cookie = cookie_of(r)
    a = attrs(r.headers["set-cookie"])
    assert a["path"] == "/" and a["samesite"] == "Lax" and "httponly" in a
    assert a["max-age"] == str(14 * 24 * 60 * 60) and "secure" not in a
    assert s.get("/view_session", cookie=cookie).json() == {"session": {"some": "data"}}
    r = s.post("/clear_session", cookie=cookie)
    assert r.json() == {"session": {}}
    cleared = cookie_of(r)
    assert s.get("/view_session", cookie=cleared).json() == {"session": {}}


def test_session_arguments(serve_asgi):
    s = serve_asgi(
        create_app(secret_key=SECRET, session_cookie="sid", max_age=None, path="/", same_site="strict", https_only=True, domain="example.test")
    )
    r = s.post("/update_session", json={"a": 1}, headers={"x-forwarded-proto": "https"})
    assert r.headers["set-cookie"].startswith("sid=")
    a = attrs(r.headers["set-cookie"])
    assert a["samesite"] == "Strict" and "secure" in a and a["domain"] == "example.test"
    assert "max-age" not in a and "expires" not in a  # max_age=None: a browser-session cookie


def test_a_tampered_cookie_is_a_fresh_session(serve_asgi):
    s = serve_asgi(create_app(secret_key=SECRET))
    cookie = cookie_of(s.post("/update_session", json={"some": "data"}))
    name, value = cookie.split("=", 1)
    for bad in [value[:-2] + ("AA" if not value.endswith("AA") else "BB"), "", "x" * 5000, "%%%"]:
        r = s.get("/view_session", cookie=f"{name}={bad}")
        assert r.status_code == 200 and r.json() == {"session": {}}


def test_a_short_secret_is_a_clear_error():
    with pytest.raises(polysession.BadConfigError) as e:
        create_app(secret_key="example").build_middleware_stack()
    assert e.value.code == "BAD_CONFIG" and "32" in str(e.value)


def test_server_side_provider_and_outage(serve_asgi, redis_addr):
    prefix = f"starlette{uuid.uuid4().hex[:8]}:"
    s = serve_asgi(create_app(provider="redis", providerConfig=json.dumps({"save_path": redis_addr, "prefix": prefix})))
    r = s.post("/update_session", json={"user": "ada"})
    cookie = cookie_of(r)
    assert len(cookie.split("=", 1)[1]) == 32  # an id, not the data
    assert s.get("/view_session", cookie=cookie).json() == {"session": {"user": "ada"}}
    dead = serve_asgi(create_app(provider="redis", providerConfig=json.dumps({"save_path": "127.0.0.1:1", "timeout_ms": 300})))
    r = dead.get("/view_session", cookie=cookie)
    assert r.status_code == 503
    assert r.text == "503 session store unavailable, please retry (STORE_UNAVAILABLE)\n"


def test_one_session_gets_a_cookie_lifetime_of_its_own(serve_asgi):
    from polysession.starlette import current

    async def remember(request: Request) -> PlainTextResponse:
        request.session["user"] = "ann"
        current(request).set_cookie_lifetime(30 * 24 * 3600)
        return PlainTextResponse("ok")

    app = create_app(secret_key=SECRET, max_age=None)
    app.router.routes.append(Route("/remember", endpoint=remember))
    s = serve_asgi(app)
    r = s.get("/remember")
    assert attrs(r.headers["set-cookie"])["max-age"] == str(30 * 24 * 3600)
    # The others keep the arguments' lifetime: max_age=None, a browser-session cookie.
    r = s.post("/update_session", json={"a": 1})
    assert "max-age" not in attrs(r.headers["set-cookie"])
    with pytest.raises(polysession.BadInputError):
        polysession.Manager({}).native.start().set_cookie_lifetime(-1)


def test_fifty_tasks_write_different_keys_of_one_session(serve_asgi):
    s = serve_asgi(create_app(provider="memory"))
    cookie = cookie_of(s.post("/update_session", json={"start": True}))

    async def write_all():
        async with httpx.AsyncClient(base_url=s.url, timeout=10) as client:
            results = await asyncio.gather(
                *(client.post(f"/set/k{i}", json=i, headers={"cookie": cookie}) for i in range(50))
            )
        return [r.status_code for r in results]

    assert asyncio.run(write_all()) == [200] * 50
    data = s.get("/view_session", cookie=cookie).json()["session"]
    assert {k: v for k, v in data.items() if k.startswith("k")} == {f"k{i}": i for i in range(50)}
    assert data["start"] is True
