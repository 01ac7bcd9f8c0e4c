"""In-process cost of the ASGI session layer, without a server: polysession's Starlette
middleware (memory, sealed cookies) against Starlette's SessionMiddleware, on a bare ASGI app,
20,000 requests each, µs per request above the app alone. Where the HTTP benchmark
(bench/python-http.sh) cannot resolve differences of a few µs under a server's noise, this
can. With an argument, prints a cProfile of polysession on memory (P=/write for writes).

    ~/.cache/polysession/bench-venv/bin/python bench/python/middleware.py [profile]

Run it with the bench venv (the release wheel); SRC=1 uses python/ (the dev build) instead.
"""
import asyncio, time, sys, cProfile, pstats
import os
if os.environ.get("SRC"): sys.path.insert(0, "/work/main/python")
from polysession.starlette import SessionMiddleware
from starlette.middleware.sessions import SessionMiddleware as SSM

async def app(scope, receive, send):
    s = scope.get("session", {})
    if scope["path"] == "/write":
        s["n"] = s.get("n", 0) + 1
    else:
        s.get("n")
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})

async def receive():
    return {"type": "http.request", "body": b""}

async def bench(mw, path, cookie, n=20000):
    sent = []
    async def send(m):
        if m["type"] == "http.response.start":
            sent.append(m)
    scope_base = {"type": "http", "method": "GET", "path": path, "root_path": "", "query_string": b"", "scheme": "http"}
    # one cookie
    t = time.perf_counter()
    for _ in range(n):
        scope = dict(scope_base, headers=[(b"cookie", cookie)] if cookie else [])
        await mw(scope, receive, send)
    return (time.perf_counter() - t) / n * 1e6, sent[-1]

async def main():
    none = await bench(app, "/read", None)
    print("none", round(none[0],1))
    for name, mw in [("poly-memory", SessionMiddleware(app, provider="memory")), ("poly-cookie", SessionMiddleware(app, secret_key="x"*32)), ("starlette", SSM(app, secret_key="x"*32))]:
        # seed
        sent = []
        async def send(m):
            sent.append(m)
        scope = {"type": "http", "method": "GET", "path": "/write", "root_path": "", "query_string": b"", "scheme": "http", "headers": []}
        await mw(scope, receive, send)
        hdrs = dict(sent[0]["headers"])
        cookie = hdrs.get(b"set-cookie", b"").split(b";")[0]
        for path in ["/read", "/write"]:
            us, _ = await bench(mw, path, cookie)
            print(name, path, round(us - none[0], 1))
    if len(sys.argv) > 1:
        mw = SessionMiddleware(app, provider="memory")
        pr = cProfile.Profile(); pr.enable()
        await bench(mw, os.environ.get("P", "/read"), cookie, 20000)
        pr.disable(); pstats.Stats(pr).sort_stats("tottime").print_stats(12)
asyncio.run(main())
