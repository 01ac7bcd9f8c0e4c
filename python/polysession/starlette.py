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

import json
from typing import TYPE_CHECKING, Any, Dict, Optional, Union

from . import asgi
from .asgi import current, destroy, manager, regenerate

if TYPE_CHECKING:
    from starlette.types import ASGIApp

__all__ = ["SessionMiddleware", "regenerate", "destroy", "current", "manager"]

_SAME_SITE = {"lax": "Lax", "strict": "Strict", "none": "None"}


class SessionMiddleware(asgi.SessionMiddleware):
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
        super().__init__(app, core)

