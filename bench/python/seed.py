"""Creates N sessions on an app (GET /seed) and prints their cookies, one per line."""

import sys
import urllib.request

base, n = sys.argv[1], int(sys.argv[2])
for _ in range(n):
    with urllib.request.urlopen(f"{base}/seed") as r:
        cookie = r.headers.get("Set-Cookie")
        if cookie:
            print(cookie.split(";")[0])
