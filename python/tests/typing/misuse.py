"""Misuse the types must catch: mypy --strict reports an error on each line that ends in an
error comment, and on no other (tests/test_typing.py)."""

from __future__ import annotations

import polysession
from polysession import _native

manager = polysession.Manager({"provider": "memory"})
native = manager.native.start()
native.set("k", 1)  # error: values cross as JSON text
s = polysession.Session(native)
s.flash("notice", 42)  # error: messages are str
count: str = manager.count()  # error: count is an int
manager.native.commit("not a session")  # error
polysession.Manager(beego=True)  # error: beego is a JSON string
headers = manager.native.commit(native)
headers["set-cookie"]  # error: the key is set_cookie
code: int = polysession.Error().code  # error: codes are str
_native.error_response(404)  # error: codes are str
