"""Compile a TypeNode into a load function: wire data or Python values to the annotated type."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any

from streamctl.models.exceptions import ValidationError
from streamctl.models.typeexpr.nodes import Fn, TypeNode


class Invalid(Exception):
    """Internal: a converter refused a value; ``path`` is relative to the field."""

    def __init__(self, path: str, rule: str, value: Any) -> None:
        super().__init__(rule)
        self.path = path
        self.rule = rule
        self.value = value


def parse_datetime(value: str) -> datetime:
    """ISO 8601 as Python writes it, plus a trailing ``Z`` for UTC."""
    if value[-1:] in ("Z", "z"):
        value = value[:-1] + "+00:00"
    return datetime.fromisoformat(value)


def to_decimal(value: Any) -> Decimal:
    if type(value) is str:
        return Decimal(value)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError("a bool is not a decimal")
    if isinstance(value, float):
        return Decimal(repr(value))  # the shortest text that round-trips, not binary noise
    if isinstance(value, int | str):
        return Decimal(value)
    raise TypeError(f"cannot make a decimal from {type(value).__name__}")


def _b64decode(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise Invalid("", "invalid base64 for bytes", value) from None
    return value


def _relocate(fn: Fn, pairs: Any) -> None:
    """An item conversion failed inside a container: find it and raise with its index."""
    for key, item in pairs:
        try:
            fn(item)
        except ValidationError as exc:
            sub = exc.field if exc.field.startswith("[") or not exc.field else "." + exc.field
            raise Invalid(f"[{key!r}]{sub}", exc.rule, exc.value) from None
        except Invalid as exc:
            raise Invalid(f"[{key!r}]{exc.path}", exc.rule, exc.value) from None
        except (ValueError, TypeError, ArithmeticError) as exc:
            raise Invalid(f"[{key!r}]", f"cannot convert: {exc}", item) from None


_ITEM_ERRORS = (ValidationError, Invalid, ValueError, TypeError, ArithmeticError)


def _none_safe(f: Fn) -> Fn:
    return lambda v: None if v is None else f(v)


@dataclass(frozen=True)
class LoadContext:
    """What a load function may do: ``wire`` is True when reading decoded data."""

    wire: bool
    coerce: bool
    isodates: bool
    decimals: bool
    timezone: tzinfo | None = None


def compile_load(node: TypeNode, ctx: LoadContext) -> Fn | None:
    """A function converting one value to the annotated type, or None for "keep as is"."""
    kind = node.kind
    if kind == "optional":
        f = compile_load(node.args[0], ctx)
        return None if f is None else _none_safe(f)
    if kind == "model":
        load: Fn = node.type._load_field
        return load
    if kind == "int" and ctx.coerce:
        return lambda v: v if type(v) is int else _coerce_int(v)
    if kind == "float" and ctx.coerce:
        return lambda v: v if type(v) is float else _coerce_float(v)
    if kind == "str" and ctx.coerce:
        return lambda v: v if type(v) is str else (str(v) if isinstance(v, _NUMBERS) else v)
    if kind == "bool" and ctx.coerce:
        return lambda v: bool(v) if type(v) is int and v in (0, 1) else v
    if kind == "bytes" and ctx.wire:
        return _b64decode
    if kind == "decimal" and (ctx.decimals or ctx.coerce):
        return lambda v: v if type(v) is Decimal else to_decimal(v)
    if kind == "datetime":
        return _datetime_loader(ctx)
    if kind == "date" and (ctx.isodates or ctx.coerce):
        return lambda v: date.fromisoformat(v) if isinstance(v, str) else v
    if kind == "enum":
        etype = node.type
        return lambda v: v if isinstance(v, etype) else etype(v)
    if kind in ("list", "set", "frozenset", "tuple"):
        return _sequence_loader(kind, compile_load(node.args[0], ctx))
    if kind == "fixed_tuple":
        return _fixed_tuple_loader([compile_load(a, ctx) for a in node.args])
    if kind == "dict":
        return _dict_loader(node, ctx)
    return None


_NUMBERS = (int, float, Decimal)  # what coercion turns into text (not None, lists...)


def _coerce_int(v: Any) -> Any:
    if isinstance(v, bool):
        raise Invalid("", "expected int", v)
    if isinstance(v, float) and not v.is_integer():
        raise Invalid("", "expected int (has a fraction)", v)
    return int(v)


def _coerce_float(v: Any) -> Any:
    if isinstance(v, bool):
        raise Invalid("", "expected float", v)
    return float(v)


def _datetime_loader(ctx: LoadContext) -> Fn | None:
    parse = ctx.isodates or ctx.coerce
    tz = ctx.timezone
    if not parse and tz is None:
        return None
    if tz is None:
        return lambda v: parse_datetime(v) if type(v) is str else v

    def load(v: Any) -> Any:
        if parse and isinstance(v, str):
            v = parse_datetime(v)
        if tz is not None and isinstance(v, datetime):
            v = v.replace(tzinfo=tz) if v.tzinfo is None else v.astimezone(tz)
        return v

    return load


def _sequence_loader(kind: str, item: Fn | None) -> Fn | None:
    make: Any = {"list": None, "set": set, "frozenset": frozenset, "tuple": tuple}[kind]
    if item is None:
        if make is None:
            return None
        return lambda v: make(v) if isinstance(v, list | tuple | set | frozenset) else v

    def load(v: Any) -> Any:
        if not isinstance(v, list | tuple | set | frozenset):
            return v
        try:
            out = [item(x) for x in v]
        except _ITEM_ERRORS:
            _relocate(item, enumerate(v))
            raise
        return out if make is None else make(out)

    return load


def _fixed_tuple_loader(items: list[Fn | None]) -> Fn:
    """``Tuple[A, B]``: each position converted by its own type (a model from its dict)."""
    fns = [f or (lambda x: x) for f in items]
    n = len(fns)

    def load(v: Any) -> Any:
        if not isinstance(v, list | tuple) or len(v) != n:
            return v  # the check reports the shape
        out = []
        for i, (f, x) in enumerate(zip(fns, v, strict=True)):
            try:
                out.append(f(x))
            except _ITEM_ERRORS:
                _relocate(f, [(i, x)])
                raise
        return tuple(out)

    return load


def _dict_loader(node: TypeNode, ctx: LoadContext) -> Fn | None:
    key_kind = node.args[0].kind
    key: Fn | None = None
    if key_kind in ("int", "float", "decimal", "enum") or (key_kind != "str" and ctx.coerce):
        key = compile_load(node.args[0], LoadContext(True, True, True, True))
    value = compile_load(node.args[1], ctx)
    if key is None and value is None:
        return None
    kf = key or (lambda k: k)
    vf = value or (lambda v: v)

    def load(v: Any) -> Any:
        if not isinstance(v, dict):
            return v
        try:
            return {kf(k): vf(x) for k, x in v.items()}
        except _ITEM_ERRORS:
            for k in v:
                try:
                    kf(k)
                except (ValueError, TypeError, ArithmeticError, Invalid):
                    raise Invalid(f"[{k!r}]", "invalid key", k) from None
            _relocate(vf, v.items())
            raise

    return load
