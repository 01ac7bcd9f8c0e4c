"""Flask: ``Session(app, **options)`` makes ``flask.session`` server-side.

After it, ``flask.session``, ``session.modified``, ``session.permanent``, ``session.clear()``
and ``flash`` / ``get_flashed_messages`` work as with Flask's own session: a permanent
session's cookie lasts ``PERMANENT_SESSION_LIFETIME``, another one ends with the browser
(``SESSION_PERMANENT = True`` makes every session permanent unless it says otherwise). Values are what
Flask's session accepts: JSON plus Flask's tagged types (``datetime``, ``bytes``, ``tuple``,
``Markup``, ``UUID``), stored with Flask's tags.

Options come from the app's config where they map (``SESSION_COOKIE_NAME``,
``SESSION_COOKIE_DOMAIN``, ``SESSION_COOKIE_PATH``, ``SESSION_COOKIE_HTTPONLY``,
``SESSION_COOKIE_SECURE``, ``SESSION_COOKIE_SAMESITE``, ``PERMANENT_SESSION_LIFETIME``,
``SESSION_PERMANENT``), then from the keyword arguments: the core's camelCase names
(``provider``, ``providerConfig``, ``cookieName``, ...). Only changed keys are written, so
concurrent requests that change different keys of one session all keep their change.

An app written for Flask-Session keeps its config: with ``SESSION_TYPE`` set, the store comes
from Flask-Session's keys (``SESSION_REDIS``, ``SESSION_MEMCACHED``, ``SESSION_FILE_DIR``,
``SESSION_CACHELIB``, ``SESSION_SQLALCHEMY``, ``SESSION_KEY_PREFIX``, ``SESSION_ID_LENGTH``)
and sessions are permanent unless ``SESSION_PERMANENT`` is False, as there
(``polysession._flask_session``).
"""

from __future__ import annotations

import datetime
import json
from typing import Any, Dict, List, Optional, Tuple

from flask import Flask, Request, Response, abort
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from . import Manager, _native
from . import Session as Session_
from ._values import Snapshot

__all__ = ["Session", "FlaskSession", "PolysessionInterface", "regenerate", "destroy", "current"]

_SAME_SITE = {"lax": "Lax", "strict": "Strict", "none": "None"}


class FlaskSession(CallbackDict, SessionMixin):  # type: ignore[type-arg]
    """``flask.session``: a dict that records whether it was read (``accessed``) and
    assigned (``modified``), as Flask's own session."""

    def __init__(self, initial: Dict[str, Any], native: Optional["_native.Session"], snapshot: Optional[Snapshot]) -> None:
        def on_update(self: "FlaskSession") -> None:
            self.modified = True
            self.accessed = True

        super().__init__(initial, on_update)
        self.native = native
        self.snapshot = snapshot
        self.modified = False
        self.accessed = False
        self.cleared = False
        self.destroyed = False
        #: The store error met when the session was opened (answered before the view runs).
        self.error: Optional[BaseException] = None

    def __getitem__(self, key: str) -> Any:
        self.accessed = True
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.accessed = True
        return super().get(key, default)

    def setdefault(self, key: str, default: Any = None) -> Any:
        self.accessed = True
        return super().setdefault(key, default)

    def clear(self) -> None:
        # Login and logout code clears the session (Flask's tutorial does): the session then
        # starts over under a new id, so an id planted before login is worth nothing.
        self.cleared = True
        super().clear()


def _seconds(value: Any) -> int:
    if isinstance(value, datetime.timedelta):
        return max(1, int(value.total_seconds()))
    return max(1, int(value))


def _options(app: Flask, options: Dict[str, Any]) -> Tuple[Dict[str, Any], Any]:
    """The core options from the app's config, then ``options``; and the Python store of a
    Flask-Session client (or None). An app configured for Flask-Session (``SESSION_TYPE``)
    gets its store and Flask-Session's defaults (every session permanent, 32-byte ids)."""
    c = app.config
    flask_session = "SESSION_TYPE" in c
    out: Dict[str, Any] = {
        "cookieName": c.get("SESSION_COOKIE_NAME") or "session",
        "cookiePath": c.get("SESSION_COOKIE_PATH") or c.get("APPLICATION_ROOT") or "/",
        "disableHTTPOnly": not c.get("SESSION_COOKIE_HTTPONLY", True),
        "secure": bool(c.get("SESSION_COOKIE_SECURE", False)),
        "maxLifetime": _seconds(c.get("PERMANENT_SESSION_LIFETIME", datetime.timedelta(days=31))),
    }
    if c.get("SESSION_COOKIE_DOMAIN"):
        out["domain"] = c["SESSION_COOKIE_DOMAIN"]
    same_site = c.get("SESSION_COOKIE_SAMESITE")
    if same_site:
        out["cookieSameSite"] = _SAME_SITE.get(str(same_site).lower(), same_site)
    if c.get("SESSION_PERMANENT", flask_session):
        out["cookieLifeTime"] = out["maxLifetime"]
    store = None
    if flask_session:
        from ._flask_session import options_and_store

        found, store = options_and_store(app, own_store="provider" in options or "store" in options)
        out.update(found)
    out.update(options)
    # Sealed cookies with no key of their own are sealed with the app's SECRET_KEY.
    if out.get("provider") == "cookie" and "providerConfig" not in out and c.get("SECRET_KEY"):
        out["providerConfig"] = json.dumps({"keys": [str(c["SECRET_KEY"])]})
    return out, store


def _request_parts(manager: Manager, request: Request) -> Dict[str, Any]:
    environ = request.environ
    header = manager.native.header_name
    query = environ.get("QUERY_STRING", "")
    url = (environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")) or "/"
    cookie = environ.get("HTTP_COOKIE")
    form = None
    if manager.native.reads_form(cookie, request.method, environ.get("CONTENT_TYPE"), environ.get("CONTENT_LENGTH")):
        # Cached: the view still reads request.form from it.
        form = request.get_data(cache=True, as_text=True)
    return {
        "cookie": cookie,
        "form": form,
        "url": url + ("?" + query if query else ""),
        "sid_header": request.headers.get(header) if header else None,
        "forwarded_proto": environ.get("HTTP_X_FORWARDED_PROTO"),
        "https": environ.get("wsgi.url_scheme") == "https",
    }


def _replace(response: Response, error: BaseException) -> None:
    """Makes ``response`` the error response every host gives for ``error``."""
    status, headers, body = _native.error_response(getattr(error, "code", None))
    response.status_code = status
    response.headers.clear()
    for name, value in headers:
        response.headers.add(name, value)
    response.set_data(body)


class PolysessionInterface(SessionInterface):
    """The session interface ``Session`` installs."""

    serializer = TaggedJSONSerializer()

    def __init__(self, manager: Manager) -> None:
        self.manager = manager

    def _untag(self, value: Any) -> Any:
        if isinstance(value, dict):
            return self.serializer.untag({k: self._untag(v) for k, v in value.items()})
        if isinstance(value, list):
            return [self._untag(v) for v in value]
        return value

    def regenerate(self, session: SessionMixin) -> None:
        """Gives ``session`` a new id, keeping its data; the old id stops working. This is
        Flask-Session's ``app.session_interface.regenerate(session)`` (call it at login);
        ``polysession.flask.regenerate()`` does the same for the current request."""
        if isinstance(session, FlaskSession) and session.native is not None:
            session.native.regenerate()

    def open_session(self, app: Flask, request: Request) -> FlaskSession:
        try:
            native = self.manager.native.start(**_request_parts(self.manager, request))
        except _native.StoreUnavailableError as e:
            failed = FlaskSession({}, None, None)
            failed.error = e
            return failed
        text = native.data()
        values = {k: self._untag(v) for k, v in json.loads(text).items()}
        return FlaskSession(values, native, Snapshot(text))

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not isinstance(session, FlaskSession) or session.native is None or session.snapshot is None:
            return
        native = session.native
        try:
            changed: Optional[str] = None
            removed: List[str] = []
            if not session.destroyed:
                # Flask's tags make every value JSON; the texts compared are of tagged values.
                tag = self.serializer.tag
                changed, removed = session.snapshot.changes({k: tag(v) for k, v in session.items()})
            if session.cleared and not session.destroyed and not native.is_new:
                if not session:
                    # Cleared and left empty: a logout. The record goes, the cookie too.
                    native.destroy()
                    changed, removed = None, []
                else:
                    native.regenerate()
            if changed is not None or removed:
                native.update(changed, removed or None)
            permanent = dict.get(session, "_permanent")
            if permanent is not None:
                # ``session.permanent`` (Flask keeps it in the session as ``_permanent``): a
                # cookie for PERMANENT_SESSION_LIFETIME, or one that ends with the browser.
                native.set_cookie_lifetime(_seconds(app.permanent_session_lifetime) if permanent else 0)
            headers = self.manager.native.commit(
                native,
                vary=response.headers.get("Vary"),
                cache_control=response.headers.get("Cache-Control"),
            )
        except _native.Error as e:
            _replace(response, e)
            return
        if headers["set_cookie"]:
            response.headers.add("Set-Cookie", headers["set_cookie"])
        if headers["sid_header"]:
            name, value = headers["sid_header"]
            response.headers[name] = value
        if headers["vary"]:
            response.headers["Vary"] = headers["vary"]
        if headers["cache_control"]:
            response.headers["Cache-Control"] = headers["cache_control"]


def _current() -> FlaskSession:
    from flask import session

    s = session._get_current_object()  # type: ignore[attr-defined]
    if not isinstance(s, FlaskSession) or s.native is None:
        raise RuntimeError("no polysession session: call polysession.flask.Session(app) first")
    return s


def current() -> Session_:
    """This request's session as a ``polysession.Session``: the core's ``flash`` /
    ``take_flash`` (shared with the other hosts), the id, ``is_new``."""
    from . import Session as CoreSession

    return CoreSession(_current().native)  # type: ignore[arg-type]


def regenerate() -> None:
    """Gives this request's session a new id, keeping its data (call it at login); the old
    id stops working."""
    _current().native.regenerate()  # type: ignore[union-attr]


def destroy() -> None:
    """Destroys this request's session (call it at logout): the record goes, the response
    removes the cookie, and ``flask.session`` is empty for the rest of the request."""
    s = _current()
    s.native.destroy()  # type: ignore[union-attr]
    s.destroyed = True
    dict.clear(s)


def _answer_store_errors() -> None:
    """Before each view: a session that could not be opened is the error response."""
    from flask import session

    error = getattr(session, "error", None)
    if error is not None:
        status, headers, body = _native.error_response(getattr(error, "code", None))
        abort(Response(body, status=status, headers=headers))


class Session:
    """``Session(app, **options)`` or ``Session(**options).init_app(app)``.

    The keyword arguments are core options (camelCase: ``provider``, ``providerConfig``,
    ``cookieName``, ...), applied after those read from ``app.config``.
    """

    def __init__(self, app: Optional[Flask] = None, **options: Any) -> None:
        self.options = options
        self.manager: Optional[Manager] = None
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Installs the session interface on ``app``."""
        options, store = _options(app, self.options)
        self.manager = Manager(options, store=store)
        app.session_interface = PolysessionInterface(self.manager)
        app.before_request_funcs.setdefault(None, []).insert(0, _answer_store_errors)
        app.extensions["polysession"] = self
