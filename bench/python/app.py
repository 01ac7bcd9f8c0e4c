"""One app per session layer, for bench/python-http.sh. Routes: /read (reads the session),
/write (increments a counter), /untouched (the session layer runs, the route does not use the
session), /seed (creates a session, for the cookie list).

Flask (WSGI, under gunicorn): ``app:flask_app()`` with BENCH_VARIANT one of flask-none,
flask-polysession-memory, flask-polysession-redis, flask-cookie (Flask's own signed cookie),
flask-session-redis (Flask-Session on Redis).
Starlette (ASGI, under uvicorn): ``app:starlette_app`` (factory) with BENCH_VARIANT one of
starlette-none, starlette-polysession-cookie (the drop-in with secret_key: sealed cookies),
starlette-polysession-memory, starlette-session (Starlette's SessionMiddleware).
"""

from __future__ import annotations

import json
import os

VARIANT = os.environ.get("BENCH_VARIANT", "")
REDIS = os.environ.get("POLYSESSION_REDIS", "127.0.0.1:6379")
TAG = f"bench{os.getpid()}"
SECRET = "a benchmark secret of 32 bytes or more"


def flask_app():
    from flask import Flask, session

    app = Flask(__name__)
    app.secret_key = SECRET
    if VARIANT == "flask-polysession-memory":
        import polysession.flask

        polysession.flask.Session(app)
    elif VARIANT == "flask-polysession-redis":
        import polysession.flask

        polysession.flask.Session(app, provider="redis", providerConfig=json.dumps({"save_path": REDIS, "prefix": f"{TAG}:"}))
    elif VARIANT == "flask-session-redis":
        import redis
        from flask_session import Session

        host, port = REDIS.split(":")
        app.config.update(SESSION_TYPE="redis", SESSION_REDIS=redis.Redis(host=host, port=int(port)), SESSION_KEY_PREFIX=f"{TAG}:")
        Session(app)
    elif VARIANT not in ("flask-cookie", "flask-none"):
        raise SystemExit(f"unknown variant {VARIANT}")
    use = VARIANT != "flask-none"

    @app.get("/seed")
    def seed():
        if use:
            session["n"] = 0
        return "ok"

    @app.get("/read")
    def read():
        return str(session.get("n", 0)) if use else "0"

    @app.get("/write")
    def write():
        if use:
            session["n"] = session.get("n", 0) + 1
        return "ok"

    @app.get("/untouched")
    def untouched():
        return "ok"

    return app


def starlette_app():
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    middleware = []
    if VARIANT == "starlette-polysession-cookie":
        from polysession.starlette import SessionMiddleware

        middleware = [Middleware(SessionMiddleware, secret_key=SECRET)]
    elif VARIANT == "starlette-polysession-memory":
        from polysession.starlette import SessionMiddleware

        middleware = [Middleware(SessionMiddleware, provider="memory")]
    elif VARIANT == "starlette-session":
        from starlette.middleware.sessions import SessionMiddleware as StarletteSessions

        middleware = [Middleware(StarletteSessions, secret_key=SECRET)]
    elif VARIANT != "starlette-none":
        raise SystemExit(f"unknown variant {VARIANT}")
    use = VARIANT != "starlette-none"

    async def seed(request):
        if use:
            request.session["n"] = 0
        return PlainTextResponse("ok")

    async def read(request):
        return PlainTextResponse(str(request.session.get("n", 0)) if use else "0")

    async def write(request):
        if use:
            request.session["n"] = request.session.get("n", 0) + 1
        return PlainTextResponse("ok")

    async def untouched(request):
        return PlainTextResponse("ok")

    routes = [Route("/seed", seed), Route("/read", read), Route("/write", write), Route("/untouched", untouched)]
    return Starlette(routes=routes, middleware=middleware)
