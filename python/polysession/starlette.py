"""Starlette and FastAPI: ``SessionMiddleware``, a drop-in for Starlette's.

``app.add_middleware(SessionMiddleware, secret_key=...)`` with only the import changed:
``request.session`` is a dict as before. Starlette's arguments are accepted:

- ``secret_key`` becomes the key of the ``cookie`` provider (sealed cookies, as Starlette's
  signed ones, but encrypted); a secret under 32 bytes is a clear ``BadConfigError``;
- ``session_cookie`` (``"session"``), ``max_age`` (14 days; ``None`` for a browser-session
  cookie), ``path`` (``"/"``), ``same_site`` (``"lax"``), ``https_only`` (``False``),
  ``domain`` (``None``).

``provider="redis", providerConfig="127.0.0.1:6379"`` (a Rust provider) or ``store=`` (a Python
store) keeps sessions server-side instead (``secret_key`` is then not needed); ``options`` takes
any other core option by its camelCase name. The session's headers are added when the response starts; the store is awaited
without blocking the event loop.
"""

from __future__ import annotations

import inspect
import json
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Dict, List, MutableMapping, Optional, Tuple, Union

from . import Manager, Session, _native
from ._values import diff

__all__ = ["SessionMiddleware", "regenerate", "destroy", "current", "manager"]

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

_SAME_SITE = {"lax": "Lax", "strict": "Strict", "none": "None"}


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


def _header(scope: Scope, name: bytes) -> Optional[str]:
    values = [v for k, v in scope.get("headers", ()) if k == name]
    if not values:
        return None
    return "; ".join(v.decode("latin-1") for v in values) if name == b"cookie" else values[0].decode("latin-1")


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
    """ASGI middleware putting the session in ``scope["session"]`` (``request.session``)."""

    def __init__(
        self,
        app: ASGIApp,
        secret_key: Union[str, bytes, None] = None,
        session_cookie: str = "session",
        max_age: Optional[int] = 14 * 24 * 60 * 60,
        path: str = "/",
        same_site: str = "lax",
        https_only: bool = False,
        domain: Optional[str] = None,
        *,
        provider: Optional[str] = None,
        providerConfig: Optional[str] = None,  # noqa: N803 - the core option's name
        store: Any = None,
        options: Optional[Dict[str, Any]] = None,
    ) -> None:
        self.app = app
        core: Dict[str, Any] = {
            "cookieName": session_cookie,
            "cookiePath": path,
            "cookieSameSite": _SAME_SITE.get(same_site.lower(), same_site),
            "secure": bool(https_only),
        }
        if max_age:
            core["maxLifetime"] = int(max_age)
            core["cookieLifeTime"] = int(max_age)
        if domain:
            core["domain"] = domain
        core.update(options or {})
        if provider is not None:
            core["provider"] = provider
        if providerConfig is not None:
            core["providerConfig"] = providerConfig
        if store is not None:
            core["store"] = store
        if "provider" not in core and "store" not in core:
            if secret_key is None:
                raise TypeError("SessionMiddleware needs secret_key, or a provider that keeps sessions server-side")
            key = secret_key.decode("utf-8") if isinstance(secret_key, bytes) else str(secret_key)
            core["provider"] = "cookie"
            core.setdefault("providerConfig", json.dumps({"keys": [key]}))
        self.manager = Manager(core)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        native = self.manager.native
        scope[MANAGER_KEY] = self.manager
        header = native.header_name
        query = scope.get("query_string", b"").decode("latin-1")
        path = scope.get("root_path", "") + scope.get("path", "/")
        cookie = _header(scope, b"cookie")
        form = None
        if scope["type"] == "http" and native.reads_form(
            cookie, scope["method"], _header(scope, b"content-type"), _header(scope, b"content-length")
        ):
            # The body is read here (the kit allows at most 64 KiB) and replayed to the app.
            body, receive = await _buffered(receive)
            form = body.decode("latin-1")
        try:
            session = await _ready(
                native.start_async(
                    cookie=cookie,
                    form=form,
                    url=path + ("?" + query if query else ""),
                    sid_header=_header(scope, header.lower().encode("latin-1")) if header else None,
                    forwarded_proto=_header(scope, b"x-forwarded-proto"),
                    https=scope.get("scheme") in ("https", "wss"),
                )
            )
        except _native.Error as e:
            if scope["type"] == "http":
                await _error(send, e)
                return
            raise
        raw: Dict[str, Any] = json.loads(session.data())
        texts = {k: json.dumps(v, separators=(",", ":"), ensure_ascii=False) for k, v in raw.items()}
        scope["session"] = raw
        scope[SCOPE_KEY] = Session(session)
        failed: List[BaseException] = []

        async def send_with_session(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: List[Tuple[bytes, bytes]] = list(message.get("headers", []))
                try:
                    if not scope.get(_DESTROYED):
                        changed, removed, _ = diff(texts, scope["session"])
                        if changed is not None or removed:
                            session.update(changed, removed or None)
                    vary = [v.decode("latin-1") for k, v in headers if k.lower() == b"vary"]
                    cache = [v.decode("latin-1") for k, v in headers if k.lower() == b"cache-control"]
                    out = await _ready(
                        native.commit_async(session, vary=", ".join(vary) or None, cache_control=", ".join(cache) or None)
                    )
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
