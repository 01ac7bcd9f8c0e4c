"""Typed use of the public API: mypy --strict must find nothing here (tests/test_typing.py)."""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

from flask import Flask, session
from starlette.applications import Starlette
from starlette.middleware import Middleware

import polysession
import polysession.flask
from polysession.starlette import SessionMiddleware


class Store:
    def __init__(self) -> None:
        self.items: Dict[str, str] = {}

    def get(self, key: str) -> Optional[str]:
        return self.items.get(key)

    def put(self, key: str, text: str, ttl_seconds: int) -> None:
        self.items[key] = text

    def delete(self, key: str) -> None:
        self.items.pop(key, None)

    def list(self, prefix: str, cursor: Optional[str]) -> Tuple[List[str], Optional[str]]:
        return [k for k in self.items if k.startswith(prefix)], None


def core() -> int:
    manager = polysession.Manager({"provider": "memory", "maxLifetime": 3600})
    s = polysession.Session(manager.native.start(cookie=None, url="/"))
    s.set("user", {"name": "ada", "roles": ["admin"]})
    name: object = s.get("user")
    s.flash("notice", "saved")
    flashes: Dict[str, List[str]] = s.take_flash()
    headers = manager.native.commit(s._native)
    cookie: Optional[str] = headers["set_cookie"]
    status, pairs, body = polysession.error_response("STORE_UNAVAILABLE")
    try:
        polysession.Manager({"provider": "nope"})
    except polysession.Error as e:
        code: str = e.code
        print(code, e.status)
    print(name, flashes, cookie, status, pairs, body)
    return manager.count() + len(polysession.Manager(store=Store()).provider)


def flask_app() -> Flask:
    app = Flask(__name__)
    polysession.flask.Session(app, provider="memory")

    @app.route("/")
    def index() -> str:
        session["views"] = int(session.get("views", 0)) + 1
        polysession.flask.current().flash("info", "hi")
        return str(session["views"])

    return app


def starlette_app() -> Starlette:
    return Starlette(middleware=[Middleware(SessionMiddleware, secret_key="a secret of 32 bytes or more....")])
