"""Compile a TypeNode into a check of an already loaded value's type."""

from __future__ import annotations

import math
import typing
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from streamctl.models.typeexpr.nodes import TypeNode, type_label

#: A check returns None when the value is fine, else (path suffix, rule, offending value).
Problem = tuple[str, str, Any]
Check = Callable[[Any], "Problem | None"]


def compile_check(node: TypeNode) -> Check | None:
    """A function validating the (already loaded) value's type; None accepts anything."""
    kind = node.kind
    expected = f"expected {type_label(node)}"
    if kind == "optional":
        f = compile_check(node.args[0])
        if f is None:
            return None
        return lambda v: None if v is None else f(v)
    if kind == "int":
        return lambda v: (
            None
            if type(v) is int or (isinstance(v, int) and not isinstance(v, bool))
            else ("", expected, v)
        )
    if kind == "float":
        return _check_float
    if kind == "bool":
        return lambda v: None if v is True or v is False else ("", expected, v)
    if kind == "decimal":
        return _check_decimal
    if kind == "datetime":
        return lambda v: (
            None if isinstance(v, datetime) else ("", "expected datetime (ISO 8601)", v)
        )
    if kind in ("str", "bytes", "date", "model", "enum"):
        t = node.type
        return lambda v: None if isinstance(v, t) else ("", expected, v)
    if kind == "literal":
        allowed = typing.get_args(node.type)
        return lambda v: None if v in allowed else ("", f"must be one of {list(allowed)!r}", v)
    if kind in ("list", "set", "frozenset", "tuple"):
        return _sequence_check(kind, compile_check(node.args[0]), expected)
    if kind == "fixed_tuple":
        return _fixed_tuple_check([compile_check(a) for a in node.args], expected)
    if kind == "dict":
        return _dict_check(compile_check(node.args[0]), compile_check(node.args[1]), expected)
    if kind == "none":
        return lambda v: None if v is None else ("", "expected null", v)
    if kind == "union":
        checks = [compile_check(a) for a in node.args]
        if any(c is None for c in checks):
            return None
        return lambda v: None if any(c(v) is None for c in checks if c) else ("", expected, v)
    if kind == "other" and isinstance(node.type, type):
        t = node.type
        return lambda v: None if isinstance(v, t) else ("", expected, v)
    return None


def _check_float(v: Any) -> Problem | None:
    if type(v) is float:
        return None if math.isfinite(v) else ("", "must be a finite number", v)
    if isinstance(v, int) and not isinstance(v, bool):
        return None
    if isinstance(v, float):
        return None if math.isfinite(v) else ("", "must be a finite number", v)
    return ("", "expected float", v)


def _check_decimal(v: Any) -> Problem | None:
    if not isinstance(v, Decimal):
        return ("", "expected decimal", v)
    return None if v.is_finite() else ("", "must be a finite decimal", v)


_SEQ_TYPES: dict[str, Any] = {
    "list": (list, tuple),
    "tuple": (tuple, list),
    "set": (set, frozenset),
    "frozenset": (frozenset, set),
}


def _sequence_check(kind: str, item: Check | None, expected: str) -> Check:
    accepted = _SEQ_TYPES[kind]

    def check(v: Any) -> Problem | None:
        if not isinstance(v, accepted):
            return ("", expected, v)
        if item is not None:
            for i, x in enumerate(v):
                p = item(x)
                if p is not None:
                    return (f"[{i}]{p[0]}", p[1], p[2])
        return None

    return check


def _fixed_tuple_check(items: list[Check | None], expected: str) -> Check:
    n = len(items)

    def check(v: Any) -> Problem | None:
        if not isinstance(v, tuple | list) or len(v) != n:
            return ("", expected, v)
        for i, (item, x) in enumerate(zip(items, v, strict=True)):
            if item is not None:
                p = item(x)
                if p is not None:
                    return (f"[{i}]{p[0]}", p[1], p[2])
        return None

    return check


def _dict_check(key: Check | None, value: Check | None, expected: str) -> Check:
    def check(v: Any) -> Problem | None:
        if not isinstance(v, dict):
            return ("", expected, v)
        for k, x in v.items():
            if key is not None and key(k) is not None:
                return (f"[{k!r}]", "invalid key", k)
            if value is not None:
                p = value(x)
                if p is not None:
                    return (f"[{k!r}]{p[0]}", p[1], p[2])
        return None

    return check
