"""polysession: one session library for Rust, Node, Python and the edge.

Sessions live in a Rust core shared with the Rust, Node and wasm packages, so one session can
be read and written by services in any of them. This package adds:

- ``polysession.flask.Session``: Flask's session, server-side (``flask.session`` unchanged);
- ``polysession.starlette.SessionMiddleware``: a drop-in for Starlette's;
- ``Manager`` / ``Session`` below, for any other framework.

Errors are ``polysession.Error`` (``.code``, ``.status``) and one subclass per code.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional

from . import _native
from ._native import (
    BadConfigError,
    BadInputError,
    ConflictError,
    Error,
    StoreUnavailableError,
    TooLargeError,
    UnknownProviderError,
    UnsupportedError,
)
from ._values import dumps as _dumps
from ._values import loads as _loads

__all__ = [
    "Manager",
    "Session",
    "Error",
    "BadConfigError",
    "BadInputError",
    "StoreUnavailableError",
    "ConflictError",
    "TooLargeError",
    "UnsupportedError",
    "UnknownProviderError",
    "error_response",
]

__version__ = "0.1.0"


def error_response(code: Optional[str]) -> "tuple[int, List[tuple[str, str]], str]":
    """The response every polysession host gives for an error ``code``:
    ``(status, [(name, value)], body)``."""
    status, headers, body = _native.error_response(code)
    return status, [(n, v) for n, v in headers], body


class Session:
    """One request's session. Values are JSON: ``dict``, ``list``, ``str``, ``int``,
    ``float``, ``bool``, ``None``; anything else is a ``TypeError`` naming the key."""

    __slots__ = ("_native",)

    def __init__(self, native: "_native.Session") -> None:
        self._native = native

    @property
    def id(self) -> str:
        """The session id."""
        return self._native.id

    @property
    def is_new(self) -> bool:
        """Whether this request created the session."""
        return self._native.is_new

    def get(self, key: str, default: Any = None) -> Any:
        """The value under ``key``, or ``default``."""
        text = self._native.get(key)
        return default if text is None else json.loads(text)

    def set(self, key: str, value: Any) -> None:
        """Stores ``value`` under ``key``."""
        self._native.set(key, _dumps(key, value))

    def delete(self, key: str) -> bool:
        """Removes ``key``; returns whether it was there."""
        return self._native.delete(key)

    def flush(self) -> None:
        """Removes every key."""
        self._native.flush()

    def keys(self) -> List[str]:
        """The keys, in order."""
        return self._native.keys()

    def data(self) -> Dict[str, Any]:
        """Every key and value."""
        data: Dict[str, Any] = _loads(self._native.data())
        return data

    def set_cookie_lifetime(self, secs: float) -> None:
        """Sets the lifetime of the cookie this response sends, in seconds (``0``: a
        browser-session cookie), in place of the ``cookieLifeTime`` option, for this request
        only. A session given one sends its cookie with every write."""
        self._native.set_cookie_lifetime(secs)

    def flash(self, level: str, message: str) -> None:
        """Adds a flash message under ``level``."""
        self._native.flash(level, message)

    def take_flash(self) -> Dict[str, List[str]]:
        """The pending flash messages by level, removed as they are read."""
        flashes: Dict[str, List[str]] = json.loads(self._native.take_flash())
        return flashes

    def regenerate(self) -> None:
        """Gives the session a new id, keeping its data (call it at login)."""
        self._native.regenerate()

    def destroy(self) -> None:
        """Destroys the session; the commit removes the cookie (call it at logout)."""
        self._native.destroy()


def _options_json(options: Optional[Mapping[str, Any]]) -> Optional[str]:
    if not options:
        return None
    return json.dumps(dict(options))


class Manager:
    """A session manager over one provider.

    ``options`` are the core's camelCase option names (``provider``, ``providerConfig``,
    ``cookieName``, ``maxLifetime``, ...); ``beego`` is a beego JSON config string instead.
    With neither, sessions are in memory. ``store`` (also accepted in ``options``) is a Python
    store: an object with ``get(key)``, ``put(key, text, ttl_seconds)``, ``delete(key)`` and
    optionally ``list(prefix, cursor) -> (keys, next_cursor)``, plain or ``async def``.
    """

    __slots__ = ("native",)

    def __init__(
        self, options: Optional[Mapping[str, Any]] = None, *, beego: Optional[str] = None, store: Any = None
    ) -> None:
        opts = dict(options or {})
        store = opts.pop("store", store)
        if beego is not None:
            if opts:
                raise TypeError("give options or beego, not both")
            self.native = _native.Manager(beego, True, store)
        else:
            self.native = _native.Manager(_options_json(opts), False, store)

    @property
    def provider(self) -> str:
        """The provider in use."""
        return self.native.provider

    @property
    def cookie_name(self) -> str:
        """The session cookie's name."""
        return self.native.cookie_name

    def init(self) -> None:
        """Checks the store's connection and creates its tables."""
        self.native.init()

    def count(self) -> int:
        """How many sessions the store holds (``UnsupportedError`` for ``cookie``)."""
        return self.native.count()

    def gc(self) -> int:
        """One GC pass; how many sessions were removed."""
        return self.native.gc()
