"""The demo routes every polysession host serves, on Starlette with
``polysession.starlette.SessionMiddleware``, under uvicorn. Flags as the Rust demo's:
``--host``, ``--port`` (0: any), ``--provider``, ``--provider-config`` and
``--session-config '<JSON of core options>'``.

    python examples/starlette_app.py --port 8080 --provider redis --provider-config 127.0.0.1:6379
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import time
from typing import Any, Dict, Optional

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

import polysession
import polysession.starlette
from polysession.starlette import SessionMiddleware


def create_app(middleware_args: Dict[str, Any]) -> Starlette:
    def missing(what: str) -> Response:
        return PlainTextResponse(f"missing {what}\n", status_code=400)

    async def index(request: Request) -> Response:
        num = request.session.get("asta")
        num = num if isinstance(num, int) and not isinstance(num, bool) else 0
        request.session["asta"] = num + 1
        return Response(
            "<!doctype html>\n<html><head><title>polysession</title></head><body><h1>polysession demo</h1>"
            f'<p>asta: <span id="num">{num}</span></p></body></html>\n',
            media_type="text/html",
        )

    async def get(request: Request) -> Response:
        key = request.query_params.get("key")
        if key is None:
            return missing("key")
        return JSONResponse(request.session.get(key))

    async def set_(request: Request) -> Response:
        key, value = request.query_params.get("key"), request.query_params.get("value")
        if key is None or value is None:
            return missing("key or value")
        try:
            request.session[key] = json.loads(value)
        except ValueError as e:
            return PlainTextResponse(f"value is not JSON: {e}\n", status_code=400)
        return Response(status_code=204)

    async def delete(request: Request) -> Response:
        key = request.query_params.get("key")
        if key is None:
            return missing("key")
        request.session.pop(key, None)
        return Response(status_code=204)

    async def flush(request: Request) -> Response:
        request.session.clear()
        return Response(status_code=204)

    async def login(request: Request) -> Response:
        user = request.query_params.get("user")
        if user is None:
            return missing("user")
        await polysession.starlette.regenerate(request)
        request.session["user"] = user
        return Response(status_code=204)

    async def logout(request: Request) -> Response:
        await polysession.starlette.destroy(request)
        return Response(status_code=204)

    async def flash(request: Request) -> Response:
        level, msg = request.query_params.get("level"), request.query_params.get("msg")
        if level is None or msg is None:
            return missing("level or msg")
        polysession.starlette.current(request).flash(level, msg)
        return Response(status_code=204)

    async def take_flash(request: Request) -> Response:
        return JSONResponse(polysession.starlette.current(request).take_flash())

    # Counting walks the store: one count serves for a second, and requests that arrive
    # while it runs wait for the same one, as in the other hosts' demos.
    stats: Dict[str, Any] = {"at": 0.0, "task": None}

    async def stats_(request: Request) -> Response:
        manager = polysession.starlette.manager(request)
        if stats["task"] is None or time.monotonic() - stats["at"] >= 1:
            stats["at"] = time.monotonic()
            stats["task"] = asyncio.ensure_future(asyncio.to_thread(manager.count))
        task = stats["task"]
        try:
            return JSONResponse({"active": await asyncio.shield(task)})
        except polysession.UnsupportedError as e:
            return JSONResponse({"active": None, "error": e.code}, status_code=501)
        except polysession.Error:
            if stats["task"] is task:
                stats["task"] = None
            raise

    async def session_error(request: Request, exc: Exception) -> Response:
        status, headers, body = polysession.error_response(getattr(exc, "code", None))
        return PlainTextResponse(body, status_code=status, headers=dict(headers))

    routes = [
        Route("/", index),
        Route("/get", get),
        Route("/set", set_, methods=["POST"]),
        Route("/delete", delete, methods=["POST"]),
        Route("/flush", flush, methods=["POST"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/flash", flash, methods=["POST"]),
        Route("/flash", take_flash, methods=["GET"]),
        Route("/stats", stats_),
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(SessionMiddleware, **middleware_args)],
        exception_handlers={polysession.Error: session_error},
    )


def main(argv: Optional[list] = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--provider")
    parser.add_argument("--provider-config")
    parser.add_argument("--session-config")
    args = parser.parse_args(argv)
    # The demo routes' cookie name, as every host's demo uses it; sessions in memory unless a
    # provider is named (Starlette's own default is sealed cookies under secret_key).
    core: Dict[str, Any] = json.loads(args.session_config or "{}")
    provider = args.provider or core.pop("provider", "memory")
    middleware_args: Dict[str, Any] = {
        "session_cookie": "beegosessionID",
        "max_age": None,
        "provider": provider,
        "providerConfig": args.provider_config or core.pop("providerConfig", None),
        "options": core,
    }
    app = create_app(middleware_args)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    # Listening before the line below: a client may connect as soon as it reads it.
    sock.listen(2048)
    port = sock.getsockname()[1]
    print(f"polysession starlette demo listening on http://{args.host}:{port} (provider {provider})", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    server.run(sockets=[sock])


if __name__ == "__main__":
    main()
