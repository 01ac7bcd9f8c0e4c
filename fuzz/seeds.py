#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target into DIR/<target>/, from tests/vectors/ and
the documented config examples, in the input layout each target's doc comment gives.

    python3 fuzz/seeds.py DIR
"""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VECTORS = os.path.join(ROOT, "tests", "vectors")
SEEDED_ID = "app-000102030405060708090a0b0c0d0e0f"


def load(name):
    with open(os.path.join(VECTORS, name), encoding="utf-8") as f:
        return json.load(f)


def payload_bytes(case):
    """A payload case's bytes: its `text`, or its `hex` for bytes that are not UTF-8 text."""
    if "text" in case:
        return case["text"].encode()
    return bytes.fromhex(case["hex"])


def main(out):
    seeds = {t: [] for t in ("request", "id", "config", "sealed", "records", "flash")}
    ids = load("ids.json")
    sealed = load("sealed.json")
    records = load("records.json")
    payloads = load("payloads.json")

    for case in ids:
        seeds["id"].append(case["id"].encode())
    seeds["id"] += [b"", b"app-", b"../../etc/passwd", SEEDED_ID.encode(), SEEDED_ID.upper().encode()]

    cookies = [
        "beegosessionID=" + SEEDED_ID,
        "theme=dark; beegosessionID=" + SEEDED_ID + "; beegosessionID=junk",
        'beegosessionID="' + SEEDED_ID + '"',
        "beegosessionID=",
        "=; ;;beegosessionID",
    ] + ["beegosessionID=" + c["sealed"] for c in sealed]
    requests = [
        # flags, cookies..., url, method, content-type, content-length, form, header, proto
        (0, [cookies[0]], "/", "GET", "", "", "", "", ""),
        (4 | 1, cookies[1:3], "https://h/p?beegosessionID=" + SEEDED_ID, "POST",
         "application/x-www-form-urlencoded", "52", "beegosessionID=" + SEEDED_ID, SEEDED_ID, "https"),
        (8 | 4, [""], "/x?a=1&beegosessionID=%2e%2e%2f", "PUT",
         "application/x-www-form-urlencoded; charset=utf-8", "40", "beegosessionID=" + SEEDED_ID + "&x=%00",
         "", "http, https"),
        (16, [cookies[3]], "/", "PATCH", "text/plain", "99999999999999999999", "", "x" * 200, "HTTPS"),
    ] + [(4, [c], "/", "GET", "", "", "", "", "") for c in cookies[4:]]
    for flags, cs, url, method, ctype, clen, form, header, proto in requests:
        fields = cs + [url, method, ctype, clen, form, header, proto]
        seeds["request"].append(bytes([flags | (len(cs) - 1)]) + "\n".join(fields).encode())

    config = [
        (0, '{"cookieName":"gosessionid","gclifetime":3600,"enableSetCookie,omitempty":true}'),
        (0, '{"cookieName":"sid","providerConfig":"{\\"keys\\":[\\"0123456789abcdef0123456789abcdef-a\\"]}",'
            '"sessionIDHashFunc":"sha1","sessionIDHashKey":"k","cookieSameSite":3}'),
        (1, "sessionon = true\nsessionname = sid\nsessiongcmaxlifetime = 60\n"),
        (1, "runmode = prod\nsessionon = true\nsessionname = a\n[dev]\nsessionname = b\n[prod]\nsessionname = c\n"),
        (1, 'sessionon=1\nsessionprovider=memory\nsessionConfig={"cookieName":"j","gclifetime":5}\n'),
        (2, '{"cookieName":"sid","provider":"cookie","providerConfig":{"keys":["0123456789abcdef0123456789abcdef"]}}'),
        (2, '{"maxLifetime":60,"maxSessionBytes":2000,"maxSessionKeys":3,"sameSite":"strict","secure":true}'),
        (3, '{"providerConfig":{"keys":["0123456789abcdef0123456789abcdef"],"context":"app"}}'),
        (4, '{"provider":"memory","providerConfig":"100","enableSidInHttpHeader":true,"sessionNameInHttpHeader":"X-Sid"}'),
        (5, '{"keys":["0123456789abcdef0123456789abcdef-b","0123456789abcdef0123456789abcdef-a"]}'),
        (6, "1000"),
        (7, "127.0.0.1:11211;127.0.0.1:11212"),
        (7, '{"save_path":"127.0.0.1:11211","prefix":"s:","timeout_ms":500}'),
    ]
    seeds["config"] = [bytes([w]) + t.encode() for w, t in config]

    for case in sealed:
        seeds["sealed"].append(b"\x00" + case["sealed"].encode())
        if case.get("plaintext") is not None:
            seeds["sealed"].append(b"\x01" + case["plaintext"].encode())
    for case in payloads:
        seeds["sealed"].append(b"\x03" + payload_bytes(case))

    for case in records:
        fmt = case["format"]
        if fmt == "kv":
            seeds["records"].append(b"\x00" + case["text"].encode())
        elif fmt == "file":
            seeds["records"].append(b"\x01" + bytes.fromhex(case["hex"]))
        elif fmt == "memcache":
            raw = bytes.fromhex(case["hex"])
            seeds["records"].append(b"\x02" + raw)
            seeds["records"].append(b"\x03" + b"VALUE k 0 %d 7\r\n" % len(raw) + raw + b"\r\nEND\r\n")
    seeds["records"].append(b"\x04" + b"key=ps1%3Aab%zz%4 exp=-1 la=1 cas=2 fetch=no cls=1 size=63")
    for case in payloads:
        seeds["records"].append(b"\x05" + payload_bytes(case))

    seeds["flash"] = [
        b'{"notice":["saved"]}\nnotice\nsaved',
        b'{"error":["a","b"],"success":[]}\nerror\nagain',
        b'"not an object"\nwarning\nx',
        b'{"notice":[1,null,{"a":2}]}\ncustom\n\xe2\x98\x95',
        b'null\n\n',
    ]

    for target, items in seeds.items():
        d = os.path.join(out, target)
        os.makedirs(d, exist_ok=True)
        for i, item in enumerate(items):
            with open(os.path.join(d, "seed-%03d" % i), "wb") as f:
                f.write(item)
        print("%-8s %3d seeds" % (target, len(items)))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
