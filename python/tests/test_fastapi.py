"""FastAPI with ``polysession.starlette.SessionMiddleware``, under uvicorn over real HTTP: the
README's FastAPI example (taken from the README text) on Redis, a dependency reading the
session, login with ``regenerate``, logout with ``destroy``; an async Python store and its
outage."""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path
from typing import Any, Dict, Optional

from fastapi import Depends, FastAPI, Request

from conftest import cookie_of
from polysession.starlette import SessionMiddleware, current

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_app(redis_addr: str) -> Any:
    readme = README.read_text()
    at = readme.index("<!-- fastapi-readme-example")
    m = re.search(r"```python\n(.*?)```", readme[at:], re.S)
    assert m, "the README marks its FastAPI example"
    code = m.group(1).replace('"127.0.0.1:6379"', repr(redis_addr))
    namespace: Dict[str, Any] = {"__name__": "readme_fastapi"}
    exec(compile(code, "README.md (FastAPI example)", "exec"), namespace)
    return namespace["app"]


def test_the_readme_example_logs_in_and_out(serve_asgi, redis_addr):
    s = serve_asgi(readme_app(redis_addr))
    r = s.get("/me")
    assert r.status_code == 401 and r.json() == {"detail": "log in first"}
    assert "set-cookie" not in r.headers, "a read of an empty session sends no cookie"
    r = s.post("/login?name=ada")
    assert r.json() == {"user": "ada"}
    first = cookie_of(r)
    assert first and len(first.split("=", 1)[1]) == 32
    assert s.get("/me", cookie=first).json() == {"user": "ada"}
    # Logging in again gives a new id; the old one is worth nothing from then on.
    r = s.post("/login?name=bob", cookie=first)
    second = cookie_of(r)
    assert second and second != first
    assert s.get("/me", cookie=second).json() == {"user": "bob"}
    assert s.get("/me", cookie=first).status_code == 401
    # Logout removes the record and the cookie.
    r = s.post("/logout", cookie=second)
    assert r.json() == {"user": None}
    assert "Max-Age=0" in r.headers["set-cookie"]
    assert s.get("/me", cookie=second).status_code == 401


class AsyncDictStore:
    """A Python store with ``async def`` methods that can be made to fail."""

    def __init__(self) -> None:
        self.items: Dict[str, str] = {}
        self.failing = False

    async def get(self, key: str) -> Optional[str]:
        await asyncio.sleep(0)
        if self.failing:
            raise ConnectionError("store down")
        return self.items.get(key)

    async def put(self, key: str, text: str, ttl_seconds: int) -> None:
        await asyncio.sleep(0)
        if self.failing:
            raise ConnectionError("store down")
        self.items[key] = text

    async def delete(self, key: str) -> None:
        self.items.pop(key, None)


def test_an_async_python_store_and_its_outage(serve_asgi):
    store = AsyncDictStore()
    app = FastAPI()
    app.add_middleware(SessionMiddleware, store=store)

    def cart(request: Request) -> list:
        return request.session.setdefault("cart", [])

    @app.post("/add/{item}")
    def add(item: str, request: Request, items: list = Depends(cart)) -> Dict[str, Any]:
        request.session["cart"] = items + [item]
        current(request).flash("info", f"added {item}")
        return {"cart": request.session["cart"]}

    @app.get("/cart")
    def show(request: Request, items: list = Depends(cart)) -> Dict[str, Any]:
        return {"cart": items, "flash": current(request).take_flash()}

    s = serve_asgi(app)
    cookie = cookie_of(s.post("/add/apple"))
    s.post("/add/pear", cookie=cookie)
    assert s.get("/cart", cookie=cookie).json() == {"cart": ["apple", "pear"], "flash": {"info": ["added apple", "added pear"]}}
    assert len(store.items) == 1, "one record, in the Python store"
    store.failing = True
    r = s.get("/cart", cookie=cookie)
    assert r.status_code == 503
    assert r.text == "503 session store unavailable, please retry (STORE_UNAVAILABLE)\n"
    store.failing = False
    assert s.get("/cart", cookie=cookie).json()["cart"] == ["apple", "pear"], "nothing was lost"


def test_a_bad_cookie_is_a_fresh_session(serve_asgi, redis_addr):
    s = serve_asgi(readme_app(redis_addr))
    for bad in ["session=", "session=zz", "session=" + "a" * 5000, "session=" + uuid.uuid4().hex]:
        r = s.get("/me", cookie=bad)
        assert r.status_code == 401, bad

