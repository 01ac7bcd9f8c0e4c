"""The demo routes every polysession host serves, on Flask with ``polysession.flask``, under
werkzeug's threaded WSGI server. Flags as the Rust demo's: ``--host``, ``--port`` (0: any),
``--provider``, ``--provider-config`` and ``--session-config '<JSON of core options>'``.

    python examples/flask_app.py --port 8080 --provider redis --provider-config 127.0.0.1:6379
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from typing import Any, Dict, Optional, Tuple

from flask import Flask, Response, jsonify, request, session
from werkzeug.serving import make_server

import polysession
import polysession.flask


def create_app(options: Dict[str, Any]) -> Tuple[Flask, polysession.flask.Session]:
    app = Flask(__name__)
    sessions = polysession.flask.Session(app, **options)

    def missing(what: str) -> Response:
        return Response(f"missing {what}\n", status=400, mimetype="text/plain")

    @app.get("/")
    def index() -> Response:
        num = session.get("asta")
        num = num if isinstance(num, int) and not isinstance(num, bool) else 0
        session["asta"] = num + 1
        return Response(
            "<!doctype html>\n<html><head><title>polysession</title></head><body><h1>polysession demo</h1>"
            f'<p>asta: <span id="num">{num}</span></p></body></html>\n',
            mimetype="text/html",
        )

    @app.get("/get")
    def get() -> Response:
        key = request.args.get("key")
        if key is None:
            return missing("key")
        return jsonify(session.get(key))

    @app.post("/set")
    def set_() -> Response:
        key, value = request.args.get("key"), request.args.get("value")
        if key is None or value is None:
            return missing("key or value")
        try:
            session[key] = json.loads(value)
        except ValueError as e:
            return Response(f"value is not JSON: {e}\n", status=400, mimetype="text/plain")
        return Response(status=204)

    @app.post("/delete")
    def delete() -> Response:
        key = request.args.get("key")
        if key is None:
            return missing("key")
        session.pop(key, None)
        return Response(status=204)

    @app.post("/flush")
    def flush() -> Response:
        # Emptied key by key: session.clear() would start over under a new id.
        for key in list(session):
            del session[key]
        return Response(status=204)

    @app.post("/login")
    def login() -> Response:
        user = request.args.get("user")
        if user is None:
            return missing("user")
        polysession.flask.regenerate()
        session["user"] = user
        return Response(status=204)

    @app.post("/logout")
    def logout() -> Response:
        polysession.flask.destroy()
        return Response(status=204)

    @app.post("/flash")
    def flash() -> Response:
        level, msg = request.args.get("level"), request.args.get("msg")
        if level is None or msg is None:
            return missing("level or msg")
        polysession.flask.current().flash(level, msg)
        return Response(status=204)

    @app.get("/flash")
    def take_flash() -> Response:
        return jsonify(polysession.flask.current().take_flash())

    # Counting walks the store: one count serves for a second, as in the other hosts' demos.
    stats: Dict[str, Any] = {"at": 0.0, "count": None}
    lock = threading.Lock()

    @app.get("/stats")
    def stats_() -> Response:
        with lock:
            if stats["count"] is None or time.monotonic() - stats["at"] >= 1:
                assert sessions.manager is not None
                try:
                    stats["count"] = sessions.manager.count()
                except polysession.UnsupportedError as e:
                    return Response(json.dumps({"active": None, "error": e.code}), status=501, mimetype="application/json")
                stats["at"] = time.monotonic()
            return jsonify(active=stats["count"])

    @app.errorhandler(polysession.Error)
    def session_error(e: polysession.Error) -> Response:
        status, headers, body = polysession.error_response(e.code)
        return Response(body, status=status, headers=headers)

    return app, sessions


def main(argv: Optional[list] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--provider")
    parser.add_argument("--provider-config")
    parser.add_argument("--session-config")
    args = parser.parse_args(argv)
    # The demo routes' cookie name, as every host's demo uses it (Flask's is "session").
    options: Dict[str, Any] = {"cookieName": "beegosessionID", **json.loads(args.session_config or "{}")}
    if args.provider:
        options["provider"] = args.provider
    if args.provider_config:
        options["providerConfig"] = args.provider_config
    app, _ = create_app(options)
    server = make_server(args.host, args.port, app, threaded=True)
    provider = options.get("provider", "memory")
    print(f"polysession flask demo listening on http://{args.host}:{server.server_port} (provider {provider})", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
