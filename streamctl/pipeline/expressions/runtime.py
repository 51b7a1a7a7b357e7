"""What compiled expressions call per event: field reads, subscripts and a bounded ``*``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: A compiled expression or sub-expression: ``fn(value, key)``.
Fn = Callable[[Any, Any], Any]

#: the longest string, list or tuple ``*`` (or a folded constant) may build: with at most
#: MAX_NODES (500) nodes an expression builds at most 500 * 10,000 items beyond the event's
#: own data (``[[0] * 10000, [0] * 10000, ...]``), where 1,000,000 allowed gigabytes
MAX_REPEAT = 10_000
_SEQ = (str, bytes, list, tuple)
#: values that have items but no fields: ``name.upper`` on a text value is a missing field
#: (None), never the bound method ``str.upper``
_NO_FIELDS = (str, bytes, bytearray, int, float, complex, bool, list, tuple, set, frozenset)


def _attribute(v: Any, name: str) -> Any:
    """Field ``name`` of a record (or a datetime's ``year``...): None for a missing one, for
    a plain JSON value, and for a method (``value.dumps``, ``ts.timestamp``)."""
    if v is None or isinstance(v, _NO_FIELDS):
        return None
    found = getattr(v, name, None)
    return None if callable(found) else found


def field_getter(name: str) -> Fn:
    """``fn(value, key)`` reading field ``name``: a mapping item or an attribute; None if missing."""

    def get(v: Any, k: Any) -> Any:
        if v.__class__ is dict:
            return v.get(name)
        if isinstance(v, dict):
            return v.get(name)
        return _attribute(v, name)

    return get


def item(container: Any, index: Any) -> Any:
    """``container[index]``: a mapping item, a record field (not a private one), or an element."""
    if isinstance(container, dict):
        return container.get(index)
    if container is None:
        return None  # a missing field's fields and items are missing too
    if isinstance(index, str):
        if index.startswith("_"):
            raise ValueError(f"field {index!r} is private")
        return _attribute(container, index)
    return container[index]


def safe_mul(a: Any, b: Any) -> Any:
    """``a * b``, refusing to build a sequence longer than MAX_REPEAT."""
    if isinstance(a, _SEQ) and isinstance(b, int) and b * len(a) > MAX_REPEAT:
        raise ValueError(f"'*' would build a sequence longer than {MAX_REPEAT:,}")
    if isinstance(b, _SEQ) and isinstance(a, int) and a * len(b) > MAX_REPEAT:
        raise ValueError(f"'*' would build a sequence longer than {MAX_REPEAT:,}")
    return a * b


def safe_mod(a: Any, b: Any) -> Any:
    """``a % b`` for numbers; ``%``-formatting of a string is refused (its widths can ask
    for gigabytes: ``'%999999999d' % 1``)."""
    if isinstance(a, (str, bytes)):
        raise ValueError("'%' formatting of strings is not allowed; use str() and '+'")
    return a % b


def bounded(value: Any) -> Any:
    """``value``, unless it is a string, bytes, list or tuple longer than MAX_REPEAT."""
    if isinstance(value, _SEQ) and len(value) > MAX_REPEAT:
        raise ValueError(f"the result would be longer than {MAX_REPEAT:,}")
    return value


def key_refusal(name: str, kind: str) -> str:
    """Why ``name()`` (``lookup`` or ``table``) cannot read with a key of ``kind`` (Faust
    table keys are hashable: text, a number or a tuple)."""
    from streamctl.wording import with_article

    return f"{name}(): a table key must be text, a number or a tuple, not {with_article(kind)}"
