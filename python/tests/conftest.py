"""Real servers for the tests: Flask apps under werkzeug's threaded WSGI server, Starlette apps
under uvicorn, both on 127.0.0.1, and the store servers of scripts/services.sh. Under
``CI=true`` a store server that does not answer fails the test; elsewhere it skips."""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import Any, Callable, Iterator, Optional

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def service(var: str, default: str, what: str) -> str:
    """The ``host:port`` of a store server (``$var``, else ``default``); fails under CI, else
    skips, when it does not answer."""
    addr = os.environ.get(var) or default
    host, _, port = addr.split(";")[0].rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
    except OSError:
        msg = f"{what} is not reachable at {addr}: run `bash scripts/test.sh`, which starts it"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return addr


@pytest.fixture
def redis_addr() -> str:
    return service("POLYSESSION_REDIS", "127.0.0.1:6379", "Redis")


class Served:
    """A running app: its base URL and a client that keeps no cookies by itself."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = httpx.Client(base_url=url, timeout=10)

    def get(self, path: str, cookie: Optional[str] = None, **kw: Any) -> httpx.Response:
        headers = kw.pop("headers", {})
        if cookie:
            headers["cookie"] = cookie
        try:
            return self.client.get(path, headers=headers, **kw)
        finally:
            self.client.cookies.clear()  # httpx keeps a jar by default

    def post(self, path: str, cookie: Optional[str] = None, **kw: Any) -> httpx.Response:
        headers = kw.pop("headers", {})
        if cookie:
            headers["cookie"] = cookie
        try:
            return self.client.post(path, headers=headers, **kw)
        finally:
            self.client.cookies.clear()  # httpx keeps a jar by default


def cookie_of(response: httpx.Response) -> Optional[str]:
    """``name=value`` of the response's Set-Cookie, or None."""
    value = response.headers.get("set-cookie")
    return value.split(";", 1)[0] if value else None


@pytest.fixture
def serve_wsgi() -> Iterator[Callable[[Any], Served]]:
    """Serves a WSGI app with werkzeug's threaded server (a thread per request)."""
    from werkzeug.serving import make_server

    servers = []

    def serve(app: Any) -> Served:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return Served(f"http://127.0.0.1:{server.server_port}")

    yield serve
    for server in servers:
        server.shutdown()


@pytest.fixture
def serve_asgi() -> Iterator[Callable[[Any], Served]]:
    """Serves an ASGI app with uvicorn in a thread of its own."""
    import uvicorn

    servers = []

    def serve(app: Any) -> Served:
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        servers.append((server, thread))
        return Served(f"http://127.0.0.1:{port}")

    yield serve
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=5)


@pytest.fixture
def memcache_addr() -> str:
    return service("POLYSESSION_MEMCACHE", "127.0.0.1:11211", "memcached")


@pytest.fixture
def postgres_addr() -> str:
    return service("POLYSESSION_POSTGRES_ADDR", "127.0.0.1:5432", "PostgreSQL")


@pytest.fixture
def mysql_addr() -> str:
    return service("POLYSESSION_MYSQL_ADDR", "127.0.0.1:3306", "MariaDB")
