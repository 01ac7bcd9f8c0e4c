"""Plain ASGI middleware, for any ASGI framework: ``SessionMiddleware(app, options)``.

The session's values are a dict in ``scope["session"]`` (what Starlette's ``request.session``
reads; JSON values, changed keys written when the response starts) and the
``polysession.Session`` in ``scope["polysession.session"]`` (see ``current``, ``regenerate``,
``destroy``). The store is awaited without blocking the event loop; a store outage is the 503
every polysession host gives. ``polysession.starlette.SessionMiddleware`` is this with
Starlette's arguments.
"""

from __future__ import annotations

import inspect
import json
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Dict, List, Mapping, MutableMapping, Optional, Tuple

from . import Manager, Session, _native
from ._values import Snapshot

__all__ = ["SessionMiddleware", "regenerate", "destroy", "current", "manager", "SCOPE_KEY", "MANAGER_KEY"]

#: The scope key of the request's ``polysession.Session`` (``scope["session"]`` is the dict).
SCOPE_KEY = "polysession.session"
#: The scope key of the middleware's ``polysession.Manager``.
MANAGER_KEY = "polysession.manager"

if TYPE_CHECKING:
    # Starlette's own names, so that Middleware(SessionMiddleware, ...) type-checks as with
    # Starlette's middleware.
    from starlette.types import ASGIApp, Message, Receive, Scope, Send
else:
    Scope = MutableMapping[str, Any]
    Message = MutableMapping[str, Any]
    Receive = Callable[[], Awaitable[Message]]
    Send = Callable[[Message], Awaitable[None]]
    ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


_DESTROYED = "polysession.destroyed"


def current(request: Any) -> Session:
    """The request's ``polysession.Session`` (``request`` or its ``scope``): the core's
    ``flash`` / ``take_flash`` (shared with the other hosts), the id, ``is_new``."""
    scope = getattr(request, "scope", request)
    try:
        session: Session = scope[SCOPE_KEY]
        return session
    except KeyError:
        raise RuntimeError("no polysession session: add polysession.starlette.SessionMiddleware") from None


def manager(request: Any) -> Manager:
    """The ``polysession.Manager`` of the middleware that served ``request``."""
    scope = getattr(request, "scope", request)
    try:
        found: Manager = scope[MANAGER_KEY]
        return found
    except KeyError:
        raise RuntimeError("no polysession session: add polysession.starlette.SessionMiddleware") from None


async def regenerate(request: Any) -> None:
    """Gives the session a new id, keeping its data (call it at login)."""
    native = current(request)._native
    await _ready(native.regenerate_async())


async def destroy(request: Any) -> None:
    """Destroys the session (call it at logout): the record goes, the response removes the
    cookie, and ``request.session`` is empty for the rest of the request."""
    scope = getattr(request, "scope", request)
    await _ready(current(request)._native.destroy_async())
    scope[_DESTROYED] = True
    scope["session"].clear()


async def _ready(value: Any) -> Any:
    """A result of an ``_async`` native call: the value itself, or an awaitable of it."""
    if inspect.isawaitable(value):
        return await value
    return value


async def _error(send: Send, error: BaseException) -> None:
    status, headers, body = _native.error_response(getattr(error, "code", None))
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in headers],
        }
    )
    await send({"type": "http.response.body", "body": body.encode("utf-8")})


async def _buffered(receive: Receive) -> Tuple[bytes, Receive]:
    """The whole request body, and a ``receive`` that gives it to the app again."""
    chunks: List[bytes] = []
    messages: List[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break

    async def replay() -> Message:
        if messages:
            return messages.pop(0)
        return await receive()

    return b"".join(chunks), replay


class SessionMiddleware:
    """ASGI middleware: ``options`` are core options (camelCase; sessions in memory unless a
    ``provider`` is named), ``store`` a Python store."""

    def __init__(self, app: ASGIApp, options: Optional[Mapping[str, Any]] = None, *, store: Any = None) -> None:
        self.app = app
        self.manager = Manager(options, store=store)
        header = self.manager.native.header_name
        self._sid_name = header.lower().encode("latin-1") if header else None
        self._ids_in_query = self.manager.native.ids_in_query

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        native = self.manager.native
        scope[MANAGER_KEY] = self.manager
        # One pass over the headers for what the session needs.
        cookies: List[bytes] = []
        proto = sid = content_type = content_length = None
        sid_name = self._sid_name
        for name, value in scope.get("headers", ()):
            if name == b"cookie":
                cookies.append(value)
            elif name == b"x-forwarded-proto":
                proto = value.decode("latin-1")
            elif name == sid_name:
                sid = value.decode("latin-1")
            elif name == b"content-type":
                content_type = value.decode("latin-1")
            elif name == b"content-length":
                content_length = value.decode("latin-1")
        cookie = b"; ".join(cookies).decode("latin-1") if cookies else None
        query = scope.get("query_string", b"")
        path = scope.get("root_path", "") + scope.get("path", "/")
        url = path + "?" + query.decode("latin-1") if query else path
        form = None
        if (
            self._ids_in_query
            and scope["type"] == "http"
            and native.reads_form(cookie, scope["method"], content_type, content_length)
        ):
            # The body is read here (the kit allows at most 64 KiB) and replayed to the app.
            body, receive = await _buffered(receive)
            form = body.decode("latin-1")
        try:
            started = native.start_async(cookie, url, sid, proto, form, scope.get("scheme") in ("https", "wss"))
            session = started if type(started) is _native.Session else await started
        except _native.Error as e:
            if scope["type"] == "http":
                await _error(send, e)
                return
            raise
        text = session.data()
        snapshot = Snapshot(text)
        scope["session"] = json.loads(text)
        scope[SCOPE_KEY] = Session(session)
        failed: List[BaseException] = []

        async def send_with_session(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: List[Tuple[bytes, bytes]] = list(message.get("headers", []))
                try:
                    if not scope.get(_DESTROYED):
                        changed, removed = snapshot.changes(scope["session"])
                        if changed is not None or removed:
                            session.update(changed, removed or None)
                    vary: List[str] = []
                    cache: List[str] = []
                    for k, v in headers:
                        lower = k.lower()
                        if lower == b"vary":
                            vary.append(v.decode("latin-1"))
                        elif lower == b"cache-control":
                            cache.append(v.decode("latin-1"))
                    committed = native.commit_async(session, ", ".join(vary) or None, ", ".join(cache) or None)
                    out = committed if isinstance(committed, dict) else await committed
                except _native.Error as e:
                    failed.append(e)
                    await _error(send, e)
                    return
                if out["vary"]:
                    headers = [(k, v) for k, v in headers if k.lower() != b"vary"]
                    headers.append((b"vary", out["vary"].encode("latin-1")))
                if out["cache_control"]:
                    headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
                    headers.append((b"cache-control", out["cache_control"].encode("latin-1")))
                if out["set_cookie"]:
                    headers.append((b"set-cookie", out["set_cookie"].encode("latin-1")))
                if out["sid_header"]:
                    name, value = out["sid_header"]
                    headers.append((name.lower().encode("latin-1"), value.encode("latin-1")))
                message["headers"] = headers
            elif failed:
                # The error response was sent in place of the app's: drop the app's body.
                return
            await send(message)

        await self.app(scope, receive, send_with_session)
