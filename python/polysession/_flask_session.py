"""Flask-Session's configuration, read by ``polysession.flask.Session``.

An app written for Flask-Session sets ``SESSION_TYPE`` and the keys of that type
(``SESSION_REDIS``, ``SESSION_MEMCACHED``, ``SESSION_FILE_DIR``, ``SESSION_CACHELIB``,
``SESSION_SQLALCHEMY``, ...). Changing ``from flask_session import Session`` to
``from polysession.flask import Session`` keeps them working: each type becomes a built-in
provider (``redis``, ``memcache``, ``file``, ``postgresql`` / ``mysql`` / ``sqlite``), or, for a
client object this package cannot open itself (a memcache or cachelib client, a Redis client
over TLS, a Unix socket or with an ACL user), a Python store over that very client.

Only conversions live here; the session rules are the core's. Sessions Flask-Session wrote
are not read (its ids and its msgpack records are another format): users sign in again.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any, Dict, List, Mapping, Optional, Tuple
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from ._native import BadConfigError

__all__ = ["options_and_store", "ClientStore", "RedisClientStore"]

# Flask-Session 0.8's defaults (flask_session/defaults.py) where they differ from Flask's.
_DEFAULT_PREFIX = "session:"
_DEFAULT_ID_LENGTH = 32
# Memcached reads an expiry above 30 days as a Unix time (Flask-Session converts it too).
_MEMCACHED_RELATIVE_MAX = 60 * 60 * 24 * 30


class ClientStore:
    """A Python store (``get``, ``put``, ``delete``, ``list``) over a key-value client that
    Flask-Session takes: a ``redis.Redis``, a memcache client (pymemcache, python-memcached,
    pylibmc) or a cachelib cache. Their ``set(key, value, seconds)`` share the argument order;
    ``memcached`` turns long expiries into Unix times, as memcached reads them."""

    def __init__(self, client: Any, *, memcached: bool = False) -> None:
        for method in ("get", "set", "delete"):
            if not callable(getattr(client, method, None)):
                raise BadConfigError(f"the session client {type(client).__name__} has no {method}() method")
        self.client = client
        self.memcached = memcached

    def get(self, key: str) -> Optional[str]:
        value = self.client.get(key)
        if isinstance(value, (bytes, bytearray, memoryview)):
            # Bytes that are not UTF-8 are not a record: the core reads them as none.
            return bytes(value).decode("utf-8", errors="replace")
        if isinstance(value, str):
            return value
        # Nothing, or what another program keeps under the key (a client that unpickles):
        # no session, so the request gets a fresh one instead of an error.
        return None

    def put(self, key: str, text: str, ttl_seconds: int) -> None:
        ttl = int(ttl_seconds)
        if self.memcached and ttl > _MEMCACHED_RELATIVE_MAX:
            ttl += int(time.time())
        if self.client.set(key, text, ttl) is False:
            raise ConnectionError(f"the session client {type(self.client).__name__} did not store the session")

    def delete(self, key: str) -> None:
        self.client.delete(key)



class RedisClientStore(ClientStore):
    """A :class:`ClientStore` over a ``redis.Redis``, which can also list its keys (SCAN), so
    ``count()`` works; memcache and cachelib clients cannot."""

    def list(self, prefix: str, cursor: Optional[str]) -> Tuple[List[str], Optional[str]]:
        pattern = "".join("\\" + c if c in "*?[]\\" else c for c in prefix) + "*"
        next_cursor, keys = self.client.scan(int(cursor or 0), match=pattern, count=500)
        names = [k.decode("utf-8") if isinstance(k, bytes) else str(k) for k in keys]
        return names, (str(next_cursor) if int(next_cursor) else None)


def _redis(client: Any, prefix: str) -> Tuple[Dict[str, Any], Any]:
    """The ``redis`` provider for a plain TCP ``redis.Redis`` (or Flask-Session's default,
    ``Redis()`` on localhost), else a store over the client itself."""
    if client is None:
        return {"provider": "redis", "providerConfig": json.dumps({"save_path": "127.0.0.1:6379", "prefix": prefix})}, None
    pool = getattr(client, "connection_pool", None)
    kwargs: Mapping[str, Any] = getattr(pool, "connection_kwargs", None) or {}
    connection = getattr(getattr(pool, "connection_class", None), "__name__", "")
    if connection == "Connection" and kwargs.get("host") and not kwargs.get("username"):
        config = {
            "save_path": f"{kwargs['host']}:{int(kwargs.get('port') or 6379)}",
            "password": kwargs.get("password") or "",
            "db_num": int(kwargs.get("db") or 0),
            "prefix": prefix,
        }
        return {"provider": "redis", "providerConfig": json.dumps(config)}, None
    # TLS, a Unix socket, an ACL user, a cluster or sentinel client: through the client.
    return {"providerConfig": json.dumps({"prefix": prefix})}, RedisClientStore(client)


def _sql_url(uri: str, instance_path: str) -> Dict[str, Any]:
    """A SQLAlchemy database URL as a polysession SQL provider."""
    parts = urlsplit(uri)
    dialect = parts.scheme.split("+", 1)[0].lower()
    if dialect == "sqlite":
        # sqlite:///relative.db, sqlite:////absolute.db; Flask-SQLAlchemy 3 puts relative
        # paths in the app's instance folder.
        path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
        if not path or path == ":memory:" or parts.query and "mode=memory" in parts.query:
            raise BadConfigError(
                "SESSION_TYPE 'sqlalchemy': an in-memory SQLite database is private to one connection; "
                "give a file (sqlite:///sessions.db) or use provider='memory'"
            )
        if not os.path.isabs(path):
            path = os.path.join(instance_path, path)
            os.makedirs(os.path.dirname(path), exist_ok=True)
        return {"provider": "sqlite", "providerConfig": json.dumps({"dsn": path})}
    if dialect in ("postgresql", "postgres"):
        scheme, provider = "postgres", "postgresql"
    elif dialect in ("mysql", "mariadb"):
        scheme, provider = "mysql", "mysql"
    else:
        raise BadConfigError(
            f"SESSION_TYPE 'sqlalchemy': the database {dialect!r} has no polysession provider "
            "(PostgreSQL, MySQL, MariaDB and SQLite do)"
        )
    # Query parameters of the SQLAlchemy driver go to the provider, which names any it does
    # not know instead of dropping it.
    query = urlencode(parse_qsl(parts.query, keep_blank_values=True))
    user = quote(unquote(parts.username or ""), safe="")
    password = parts.password
    auth = user + (":" + quote(unquote(password), safe="") if password is not None else "")
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    dsn = f"{scheme}://{auth + '@' if auth else ''}{host}{port}{parts.path}" + (f"?{query}" if query else "")
    return {"provider": provider, "providerConfig": json.dumps({"dsn": dsn})}


def _sqlalchemy(app: Any, client: Any) -> Dict[str, Any]:
    """The SQL provider of the database Flask-Session would use: the Flask-SQLAlchemy
    instance's engine (``SESSION_SQLALCHEMY``, ``SESSION_SQLALCHEMY_BIND_KEY``), or, with no
    instance, ``SQLALCHEMY_DATABASE_URI``. Sessions go in polysession's own table
    (``session``), not in Flask-Session's (``sessions``), whose rows are another format."""
    c = app.config
    bind_key = c.get("SESSION_SQLALCHEMY_BIND_KEY")
    # Flask-SQLAlchemy's ``engines`` is a property of the class, read in an app context.
    if client is not None and hasattr(type(client), "engines"):
        with app.app_context():
            engines = client.engines
            engine = engines.get(bind_key) if bind_key else engines.get(None)
            if engine is None:
                raise BadConfigError(f"SESSION_SQLALCHEMY has no engine for the bind key {bind_key!r}")
            url = engine.url.render_as_string(hide_password=False)
        # Flask-SQLAlchemy has already put a relative SQLite path in the instance folder.
        return _sql_url(str(url), app.instance_path)
    uri = c.get("SQLALCHEMY_BINDS", {}).get(bind_key) if bind_key else c.get("SQLALCHEMY_DATABASE_URI")
    if isinstance(uri, Mapping):
        uri = uri.get("url")
    if not uri:
        raise BadConfigError("SESSION_TYPE 'sqlalchemy' needs SESSION_SQLALCHEMY or SQLALCHEMY_DATABASE_URI")
    return _sql_url(str(uri), app.instance_path)


def options_and_store(app: Any, own_store: bool = False) -> Tuple[Dict[str, Any], Any]:
    """Core options and a Python store (or None) for an app configured for Flask-Session
    (``SESSION_TYPE`` set); the cookie keys are read by the caller, as for Flask's session.
    With ``own_store`` (the app names a ``provider`` or ``store`` of its own), only the
    options that are not about the store."""
    c = app.config
    kind = str(c.get("SESSION_TYPE") or "null").lower()
    prefix = str(c.get("SESSION_KEY_PREFIX", _DEFAULT_PREFIX))
    id_length = c.get("SESSION_ID_LENGTH", _DEFAULT_ID_LENGTH)
    if type(id_length) is not int:
        raise BadConfigError(f"SESSION_ID_LENGTH must be an int (bytes), not {id_length!r}")
    options: Dict[str, Any] = {"sessionIDLength": id_length}
    store: Any = None
    if own_store:
        return options, None
    if kind == "redis":
        provider, store = _redis(c.get("SESSION_REDIS"), prefix)
        options.update(provider)
    elif kind == "memcached":
        client = c.get("SESSION_MEMCACHED")
        if client is None:
            # Flask-Session's default: a client of 127.0.0.1:11211.
            config = {"servers": "127.0.0.1:11211", "prefix": prefix}
            options.update({"provider": "memcache", "providerConfig": json.dumps(config)})
        else:
            store = ClientStore(client, memcached=True)
            options["providerConfig"] = json.dumps({"prefix": prefix})
    elif kind == "filesystem":
        path = c.get("SESSION_FILE_DIR") or os.path.join(os.getcwd(), "flask_session")
        options.update({"provider": "file", "providerConfig": json.dumps({"path": str(path)})})
    elif kind == "cachelib":
        client = c.get("SESSION_CACHELIB")
        if client is None:
            # Flask-Session's default: FileSystemCache("flask_session").
            path = os.path.join(os.getcwd(), "flask_session")
            options.update({"provider": "file", "providerConfig": json.dumps({"path": path})})
        else:
            store = ClientStore(client)
            options["providerConfig"] = json.dumps({"prefix": prefix})
    elif kind == "sqlalchemy":
        options.update(_sqlalchemy(app, c.get("SESSION_SQLALCHEMY")))
    elif kind in ("mongodb", "dynamodb"):
        raise BadConfigError(
            f"SESSION_TYPE {kind!r} has no polysession provider (no {kind} server to test one against): "
            "use redis, memcached, filesystem, cachelib or sqlalchemy, or name a provider="
        )
    else:
        # Flask-Session raises ValueError here too ("null" included).
        raise BadConfigError(f"unrecognized SESSION_TYPE {kind!r}")
    return options, store
