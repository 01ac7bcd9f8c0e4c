"""Session values cross to Rust as JSON text.

Only what JSON holds and reads back the same is accepted: ``dict`` (with ``str`` keys),
``list``, ``str``, ``int`` (within 64 bits), ``float`` (finite), ``bool`` and ``None``.
Anything else (``datetime``, ``bytes``, ``set``, ``tuple``, custom objects, a cycle) is a
``TypeError`` naming the session key, raised when the value is stored, not when the
response is already on its way.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Tuple

__all__ = ["dumps", "loads", "check", "diff", "Snapshot"]

# One encoder for every call: json.dumps with options builds a new one each time.
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
_INT_MIN = -(2**63)
_INT_MAX = 2**64 - 1
_MAX_DEPTH = 120


def _bad(key: str, path: str, what: str) -> TypeError:
    where = f"session value {key!r}" + (f" at {path}" if path else "")
    return TypeError(f"{where} is {what}, which does not round-trip as JSON")


def check(key: str, value: Any) -> None:
    """Raises ``TypeError`` naming ``key`` if ``value`` is not JSON-compatible."""
    _check(key, value, "", set(), 0)


def _check(key: str, value: Any, path: str, seen: "set[int]", depth: int) -> None:
    t = type(value)
    if value is None or t is str or t is bool:
        return
    if t is int:
        if not _INT_MIN <= value <= _INT_MAX:
            raise _bad(key, path, "an int beyond 64 bits")
        return
    if t is float:
        if value != value or value in (float("inf"), float("-inf")):
            raise _bad(key, path, f"the float {value!r}")
        return
    if depth > _MAX_DEPTH:
        raise _bad(key, path, f"nested more than {_MAX_DEPTH} levels deep")
    if t is dict or t is list:
        if id(value) in seen:
            raise _bad(key, path, "a cycle")
        seen.add(id(value))
        if t is dict:
            for k, v in value.items():
                if type(k) is not str:
                    raise _bad(key, path, f"a dict with the non-str key {k!r}")
                _check(key, v, f"{path}[{k!r}]", seen, depth + 1)
        else:
            for i, v in enumerate(value):
                _check(key, v, f"{path}[{i}]", seen, depth + 1)
        seen.discard(id(value))
        return
    raise _bad(key, path, f"a {t.__module__}.{t.__qualname__}" if t.__module__ != "builtins" else f"a {t.__name__}")


def dumps(key: str, value: Any) -> str:
    """The JSON text of ``value``, stored under ``key``; ``TypeError`` if it cannot be."""
    check(key, value)
    return _ENCODE(value)


def loads(text: Optional[str]) -> Any:
    """The value of a JSON text from Rust (``None`` for no value)."""
    return None if text is None else json.loads(text)


class Snapshot:
    """The session's values as read (the JSON text of the object), to find what a request
    changed. A request that changed nothing costs one ``json.dumps`` of the values; only
    when that text differs are the values compared key by key."""

    __slots__ = ("text", "_texts")

    def __init__(self, text: str) -> None:
        self.text = text
        self._texts: Optional[Dict[str, str]] = None

    def changes(self, after: Dict[str, Any], encode: Any = None) -> Tuple[Optional[str], List[str]]:
        """As :func:`diff`: the JSON text of the changed keys (or ``None``) and the removed
        keys. ``encode(key, value)`` gives a value's text (``dumps`` by default; a custom one
        turns off the fast path)."""
        if encode is None:
            try:
                whole = _ENCODE(after)
            except (TypeError, ValueError):
                whole = None
            if whole == self.text:
                return None, []
        if self._texts is None:
            before = json.loads(self.text)
            enc = encode or dumps
            self._texts = {k: enc(k, v) for k, v in before.items()}
        changed, removed, _ = diff(self._texts, after, encode)
        return changed, removed


def diff(
    before: Dict[str, str], after: Dict[str, Any], encode: Any = None
) -> Tuple[Optional[str], List[str], Dict[str, str]]:
    """What changed between the JSON texts read (``before``) and the values now (``after``):
    the JSON text of an object of the changed keys (or ``None``), the removed keys, and the
    texts now (the next ``before``). ``encode(key, value)`` gives a value's text (``dumps``
    by default)."""
    encode = encode or dumps
    texts: Dict[str, str] = {}
    changed: List[str] = []
    for key, value in after.items():
        if type(key) is not str:
            raise TypeError(f"session key {key!r} is not a str")
        text = None
        if encode is dumps:
            # Unchanged text is valid as read; only a changed value needs the full check.
            try:
                text = _ENCODE(value)
            except (TypeError, ValueError):
                text = None
            if text is None or text != before.get(key):
                text = dumps(key, value)
        else:
            text = encode(key, value)
        texts[key] = text
        if before.get(key) != text:
            changed.append(_ENCODE(key) + ":" + text)
    removed = [key for key in before if key not in after]
    return ("{" + ",".join(changed) + "}" if changed else None), removed, texts
