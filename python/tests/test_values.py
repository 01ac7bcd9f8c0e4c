"""Values round-trip as JSON; anything else is a TypeError naming the key."""

from __future__ import annotations

import datetime
import decimal

import pytest

import polysession
from polysession import _values


def session():
    m = polysession.Manager()
    return m, polysession.Session(m.native.start())


GOOD = [
    None,
    True,
    0,
    -(2**63),
    2**64 - 1,
    1.5,
    0.9856906946328695,
    "text \u00e9\U0001f600",
    [],
    {},
    {"nested": [1, {"deep": [None, "x"]}]},
]


@pytest.mark.parametrize("value", GOOD)
def test_json_values_round_trip(value):
    _, s = session()
    s.set("k", value)
    assert s.get("k") == value
    assert s.data() == {"k": value}


class Custom:
    pass


def cycle():
    a: list = []
    a.append(a)
    return a


BAD = [
    (datetime.datetime(2026, 1, 1), "datetime"),
    (b"bytes", "bytes"),
    ({1, 2}, "set"),
    ((1, 2), "tuple"),
    (Custom(), "Custom"),
    (2**64, "beyond 64 bits"),
    (-(2**63) - 1, "beyond 64 bits"),
    (float("nan"), "nan"),
    (float("inf"), "inf"),
    (decimal.Decimal("1.5"), "Decimal"),
    ({1: "int key"}, "non-str key"),
    ({"ok": [1, {"inner": {2, 3}}]}, "['ok'][1]['inner']"),
    (cycle(), "cycle"),
]


@pytest.mark.parametrize("value,what", BAD)
def test_other_values_are_type_errors_naming_the_key(value, what):
    _, s = session()
    with pytest.raises(TypeError) as e:
        s.set("the_key", value)
    assert "'the_key'" in str(e.value) and what in str(e.value), str(e.value)
    assert s.get("the_key") is None


def test_diff_writes_only_changed_keys():
    before = {"a": "1", "b": '"x"', "gone": "true"}
    changed, removed, texts = _values.diff(before, {"a": 1, "b": "y", "new": [1]})
    assert changed == '{"b":"y","new":[1]}'
    assert removed == ["gone"]
    assert texts == {"a": "1", "b": '"y"', "new": "[1]"}
    assert _values.diff(texts, {"a": 1, "b": "y", "new": [1]})[:2] == (None, [])


def test_session_api_and_flash():
    m, s = session()
    s.set("user", "ada")
    s.flash("info", "hello")
    assert s.keys() == ["user"] or "user" in s.keys()
    headers = m.native.commit(s._native)
    assert headers["outcome"] == "written" and headers["set_cookie"].startswith("beegosessionID=")
    again = polysession.Session(m.native.start(cookie=headers["set_cookie"].split(";")[0]))
    assert again.get("user") == "ada"
    assert again.take_flash() == {"info": ["hello"]}
    assert again.take_flash() == {}
    again.destroy()
    out = m.native.commit(again._native)
    assert out["outcome"] == "destroyed" and "Max-Age=0" in out["set_cookie"]
    assert m.count() == 0
