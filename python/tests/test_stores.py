"""Python stores: plain and ``async def`` methods, through the conformance kit's cases and
through Flask (WSGI) and Starlette (ASGI) over real HTTP; a failing store is a 503 and the
store recovers when it works again."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Dict, List, Optional, Tuple

import pytest
from flask import Flask, session

import polysession
import polysession.flask
from conftest import cookie_of
from polysession import _native


class DictStore:
    """A store in a dict, with TTLs, listing and a switch to fail."""

    def __init__(self) -> None:
        self.data: Dict[str, Tuple[str, float]] = {}
        self.lock = threading.Lock()
        self.failing = False
        self.calls = 0

    def _check(self) -> None:
        self.calls += 1
        if self.failing:
            raise ConnectionError("the store is down")

    def get(self, key: str) -> Optional[str]:
        self._check()
        with self.lock:
            item = self.data.get(key)
            if item is None or item[1] <= time.time():
                return None
            return item[0]

    def put(self, key: str, text: str, ttl_seconds: int) -> None:
        self._check()
        with self.lock:
            self.data[key] = (text, time.time() + ttl_seconds)

    def delete(self, key: str) -> None:
        self._check()
        with self.lock:
            self.data.pop(key, None)

    def list(self, prefix: str, cursor: Optional[str]) -> Tuple[List[str], Optional[str]]:
        self._check()
        now = time.time()
        with self.lock:
            keys = sorted(k for k, (_, exp) in self.data.items() if k.startswith(prefix) and exp > now)
        # Pages of 2, to exercise cursors.
        start = int(cursor or 0)
        page = keys[start : start + 2]
        return page, (str(start + 2) if start + 2 < len(keys) else None)


class AsyncDictStore(DictStore):
    """The same store with ``async def`` methods (each yields to the loop once)."""

    async def get(self, key: str) -> Optional[str]:  # type: ignore[override]
        await asyncio.sleep(0)
        return DictStore.get(self, key)

    async def put(self, key: str, text: str, ttl_seconds: int) -> None:  # type: ignore[override]
        await asyncio.sleep(0)
        DictStore.put(self, key, text, ttl_seconds)

    async def delete(self, key: str) -> None:  # type: ignore[override]
        await asyncio.sleep(0)
        DictStore.delete(self, key)

    async def list(self, prefix: str, cursor: Optional[str]) -> Tuple[List[str], Optional[str]]:  # type: ignore[override]
        await asyncio.sleep(0)
        return DictStore.list(self, prefix, cursor)


@pytest.mark.parametrize("store", [DictStore, AsyncDictStore], ids=["plain", "async"])
def test_the_conformance_kit_passes_on_python_stores(store):
    _native.run_conformance(f"python {store.__name__}", store())


def test_the_conformance_kit_fails_on_a_broken_store():
    class Forgetful(DictStore):
        def put(self, key, text, ttl_seconds):
            self._check()  # stores nothing

    with pytest.raises(AssertionError):
        _native.run_conformance("forgetful", Forgetful())


def test_a_store_without_its_methods_is_a_type_error():
    with pytest.raises(TypeError, match="`delete` is missing"):
        polysession.Manager(store=type("S", (), {"get": lambda s, k: None, "put": lambda s, k, t, n: None})())
    with pytest.raises(polysession.BadConfigError, match="store"):
        polysession.Manager({"provider": "redis", "providerConfig": "127.0.0.1:6379"}, store=DictStore())


@pytest.mark.parametrize("store_class", [DictStore, AsyncDictStore], ids=["plain", "async"])
def test_a_flask_app_on_a_python_store_fails_with_503_and_recovers(serve_wsgi, store_class):
    store = store_class()
    app = Flask(__name__)
    polysession.flask.Session(app, store=store, providerConfig='{"prefix": "app:"}')

    @app.route("/")
    def index():
        session["views"] = session.get("views", 0) + 1
        return str(session["views"])

    s = serve_wsgi(app)
    cookie = cookie_of(s.get("/"))
    assert s.get("/", cookie=cookie).text == "2"
    assert any(k.startswith("app:") for k in store.data)
    store.failing = True
    r = s.get("/", cookie=cookie)
    assert r.status_code == 503 and r.headers["retry-after"]
    assert r.text == "503 session store unavailable, please retry (STORE_UNAVAILABLE)\n"
    store.failing = False
    assert s.get("/", cookie=cookie).text == "3"
    assert polysession.flask.Session  # the same manager counts through list()
    assert app.extensions["polysession"].manager.count() == 1


@pytest.mark.parametrize("store_class", [DictStore, AsyncDictStore], ids=["plain", "async"])
def test_a_starlette_app_on_a_python_store(serve_asgi, store_class):
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from polysession.starlette import SessionMiddleware

    store = store_class()

    async def index(request):
        request.session["views"] = request.session.get("views", 0) + 1
        return PlainTextResponse(str(request.session["views"]))

    app = Starlette(routes=[Route("/", index)], middleware=[Middleware(SessionMiddleware, store=store)])
    s = serve_asgi(app)
    cookie = cookie_of(s.get("/"))
    assert len(cookie.split("=", 1)[1]) == 32  # an id: the data is in the store
    assert s.get("/", cookie=cookie).text == "2"
    store.failing = True
    assert s.get("/", cookie=cookie).status_code == 503
    store.failing = False
    assert s.get("/", cookie=cookie).text == "3"
