"""Compile a TypeNode into a dump function making values JSON-ready."""

from __future__ import annotations

import base64
import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from streamctl.models.typeexpr.nodes import Fn, TypeNode


def compile_dump(node: TypeNode) -> Fn | None:
    """A function making one value JSON-ready (models to dicts, datetimes to ISO text ...)."""
    kind = node.kind
    if kind == "optional":
        present = compile_dump(node.args[0])
        if present is None:
            return None
        return lambda v: None if v is None else present(v)
    if kind == "model" or kind == "union" or kind == "any" or kind == "other":
        return dump_any
    if kind in ("datetime", "date"):
        return lambda v: v.isoformat() if isinstance(v, date) else v
    if kind == "decimal":
        return lambda v: str(v) if isinstance(v, Decimal) else v
    if kind == "bytes":
        return lambda v: base64.b64encode(v).decode("ascii") if isinstance(v, bytes) else v
    if kind == "enum":
        return lambda v: v.value if isinstance(v, enum.Enum) else v
    if kind in ("set", "frozenset"):
        item = compile_dump(node.args[0]) or (lambda x: x)
        return lambda v: _sorted([item(x) for x in v]) if isinstance(v, set | frozenset) else v
    if kind in ("list", "tuple"):
        f = compile_dump(node.args[0])
        if f is None:
            return (lambda v: list(v) if type(v) is tuple else v) if kind == "tuple" else None
        return lambda v: [f(x) for x in v] if isinstance(v, list | tuple) else v
    if kind == "fixed_tuple":
        fs = [compile_dump(a) or (lambda x: x) for a in node.args]
        return lambda v: (
            [f(x) for f, x in zip(fs, v, strict=False)] if isinstance(v, list | tuple) else v
        )
    if kind == "dict":
        kf = compile_dump(node.args[0])
        vf = compile_dump(node.args[1])
        if kf is None and vf is None:
            return None
        kf2 = kf or (lambda k: k)
        vf2 = vf or (lambda x: x)
        return lambda v: {kf2(k): vf2(x) for k, x in v.items()} if isinstance(v, dict) else v
    return None


def _sorted(items: list[Any]) -> list[Any]:
    try:
        return sorted(items)
    except TypeError:
        return items


def dump_any(v: Any) -> Any:
    """Values of unknown static type: models become dicts, containers are walked."""
    rep = getattr(v, "to_representation", None)
    if rep is not None:
        return rep()
    if isinstance(v, list | tuple):
        return [dump_any(x) for x in v]
    if isinstance(v, dict):
        return {k: dump_any(x) for k, x in v.items()}
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, enum.Enum):
        return v.value
    if isinstance(v, bytes):
        return base64.b64encode(v).decode("ascii")
    return v
