"""Plain WSGI middleware, for frameworks without their own session hook (Bottle, Falcon,
Pyramid, a bare WSGI callable): ``SessionMiddleware(app, options)``.

The session's values are a dict in ``environ["session"]`` (JSON values; changed keys are
written when the response starts) and the ``polysession.Session`` in
``environ["polysession.session"]`` (``flash``, ``take_flash``, the id). Call ``regenerate(environ)``
at login and ``destroy(environ)`` at logout. A store outage is the 503 every polysession host
gives.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple

from . import Manager, Session, _native
from ._values import Snapshot

__all__ = ["SessionMiddleware", "ENVIRON_KEY", "SESSION_KEY", "regenerate", "destroy"]

#: The environ key of the values dict.
ENVIRON_KEY = "session"
#: The environ key of the ``polysession.Session``.
SESSION_KEY = "polysession.session"

_DESTROYED = "polysession.destroyed"


def regenerate(environ: Dict[str, Any]) -> None:
    """Gives the request's session a new id, keeping its data (call it at login)."""
    session: Session = environ[SESSION_KEY]
    session.regenerate()


def destroy(environ: Dict[str, Any]) -> None:
    """Destroys the request's session (call it at logout): the record goes, the response
    removes the cookie, and ``environ["session"]`` is empty for the rest of the request."""
    session: Session = environ[SESSION_KEY]
    session.destroy()
    environ[_DESTROYED] = True
    environ[ENVIRON_KEY].clear()


StartResponse = Callable[..., Any]
WSGIApp = Callable[[Dict[str, Any], StartResponse], Iterable[bytes]]


def _error(error: BaseException) -> Tuple[str, List[Tuple[str, str]], bytes]:
    status, headers, body = _native.error_response(getattr(error, "code", None))
    phrase = {400: "Bad Request", 413: "Content Too Large", 503: "Service Unavailable"}.get(status, "Internal Server Error")
    return f"{status} {phrase}", list(headers), body.encode("utf-8")


class SessionMiddleware:
    """WSGI middleware: ``options`` are core options (camelCase), ``store`` a Python store."""

    def __init__(self, app: WSGIApp, options: Optional[Mapping[str, Any]] = None, *, store: Any = None) -> None:
        self.app = app
        self.manager = Manager(options, store=store)

    def __call__(self, environ: Dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        native = self.manager.native
        header = native.header_name
        cookie = environ.get("HTTP_COOKIE")
        form = None
        if native.reads_form(cookie, environ.get("REQUEST_METHOD", "GET"), environ.get("CONTENT_TYPE"), environ.get("CONTENT_LENGTH")):
            # At most 64 KiB (the kit's rule); put back for the app to read.
            import io

            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length)
            environ["wsgi.input"] = io.BytesIO(body)
            form = body.decode("latin-1")
        query = environ.get("QUERY_STRING", "")
        url = (environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")) or "/"
        try:
            session = native.start(
                cookie=cookie,
                url=url + ("?" + query if query else ""),
                sid_header=environ.get("HTTP_" + header.upper().replace("-", "_")) if header else None,
                forwarded_proto=environ.get("HTTP_X_FORWARDED_PROTO"),
                form=form,
                https=environ.get("wsgi.url_scheme") == "https",
            )
        except _native.Error as e:
            status, headers, body = _error(e)
            start_response(status, headers)
            return [body]
        text = session.data()
        snapshot = Snapshot(text)
        environ[ENVIRON_KEY] = json.loads(text)
        environ[SESSION_KEY] = Session(session)
        failed: List[bytes] = []

        def session_start_response(status: str, headers: List[Tuple[str, str]], exc_info: Any = None) -> Any:
            try:
                if not environ.get(_DESTROYED):
                    changed, removed = snapshot.changes(environ[ENVIRON_KEY])
                    if changed is not None or removed:
                        session.update(changed, removed or None)
                vary = ", ".join(v for k, v in headers if k.lower() == "vary") or None
                cache = ", ".join(v for k, v in headers if k.lower() == "cache-control") or None
                out = native.commit(session, vary=vary, cache_control=cache)
            except _native.Error as e:
                error_status, error_headers, body = _error(e)
                failed.append(body)
                return start_response(error_status, error_headers, exc_info)
            if out["vary"]:
                headers = [(k, v) for k, v in headers if k.lower() != "vary"] + [("Vary", out["vary"])]
            if out["cache_control"]:
                headers = [(k, v) for k, v in headers if k.lower() != "cache-control"] + [("Cache-Control", out["cache_control"])]
            if out["set_cookie"]:
                headers.append(("Set-Cookie", out["set_cookie"]))
            if out["sid_header"]:
                name, value = out["sid_header"]
                headers.append((name, value))
            return start_response(status, headers, exc_info)

        return _Body(self.app(environ, session_start_response), failed)


class _Body:
    """The app's body, or the error body when the commit failed (the app's is closed)."""

    def __init__(self, body: Iterable[bytes], failed: List[bytes]) -> None:
        self.body = body
        self.failed = failed

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.body:
            if self.failed:
                break
            yield chunk
        if self.failed:
            yield self.failed[0]

    def close(self) -> None:
        close = getattr(self.body, "close", None)
        if close is not None:
            close()
