"""Compile field annotations into small load, dump and check functions (built once per class)."""

from __future__ import annotations

import base64
import binascii
import enum
import math
import types
import typing
from collections.abc import Callable, Mapping, MutableMapping, MutableSequence, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any

from streamctl.models.exceptions import ValidationError

Fn = Callable[[Any], Any]
#: A check returns None when the value is fine, else (path suffix, rule, offending value).
Problem = tuple[str, str, Any]
Check = Callable[[Any], "Problem | None"]


class Invalid(Exception):
    """Internal: a converter refused a value; ``path`` is relative to the field."""

    def __init__(self, path: str, rule: str, value: Any) -> None:
        super().__init__(rule)
        self.path = path
        self.rule = rule
        self.value = value


@dataclass(frozen=True)
class TypeNode:
    """One level of a parsed annotation: ``kind`` plus child nodes in ``args``."""

    kind: str
    type: Any
    args: tuple[TypeNode, ...] = ()


_SCALARS = {int: "int", float: "float", bool: "bool", str: "str", bytes: "bytes"}
_LISTS = (list, Sequence, MutableSequence, typing.List)  # noqa: UP006
_DICTS = (dict, Mapping, MutableMapping, typing.Dict)  # noqa: UP006


def is_model(tp: Any) -> bool:
    """True for a model class (anything built on streamctl.models.base.Model)."""
    return isinstance(tp, type) and hasattr(tp, "_options") and hasattr(tp, "from_data")


def parse_type(tp: Any) -> TypeNode:
    """Turn an annotation (``Optional[List[Order]]``, ``dict[str, int]``...) into a tree."""
    if tp is Any or tp is object or isinstance(tp, typing.TypeVar):
        return TypeNode("any", tp)
    if tp is None or tp is type(None):
        return TypeNode("none", type(None))
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Union or origin is types.UnionType:
        members = [a for a in args if a is not type(None)]
        if len(members) < len(args) and len(members) == 1:
            return TypeNode("optional", tp, (parse_type(members[0]),))
        node = TypeNode("union", tp, tuple(parse_type(a) for a in members))
        if len(members) < len(args):
            return TypeNode("optional", tp, (node,))
        return node
    if origin is typing.Literal:
        return TypeNode("literal", tp)
    if origin is typing.ClassVar:
        raise TypeError("ClassVar is not a field")
    if origin is not None:
        if origin in (list, Sequence, MutableSequence):
            return TypeNode("list", tp, (parse_type(args[0]) if args else TypeNode("any", Any),))
        if origin in (set, frozenset, typing.AbstractSet, typing.MutableSet):
            kind = "frozenset" if origin is frozenset else "set"
            return TypeNode(kind, tp, (parse_type(args[0]) if args else TypeNode("any", Any),))
        if origin is tuple:
            if len(args) == 2 and args[1] is Ellipsis:
                return TypeNode("tuple", tp, (parse_type(args[0]),))
            return TypeNode("tuple", tp, (TypeNode("any", Any),))
        if origin in (dict, Mapping, MutableMapping):
            k = parse_type(args[0]) if args else TypeNode("any", Any)
            v = parse_type(args[1]) if args else TypeNode("any", Any)
            return TypeNode("dict", tp, (k, v))
        return TypeNode("other", origin)
    if tp in _SCALARS:
        return TypeNode(_SCALARS[tp], tp)
    if tp is Decimal:
        return TypeNode("decimal", tp)
    if tp is datetime:
        return TypeNode("datetime", tp)
    if tp is date:
        return TypeNode("date", tp)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return TypeNode("enum", tp)
    if tp in _LISTS:
        return TypeNode("list", tp, (TypeNode("any", Any),))
    if tp in (set, frozenset):
        return TypeNode(tp.__name__, tp, (TypeNode("any", Any),))
    if tp in _DICTS:
        return TypeNode("dict", tp, (TypeNode("any", Any), TypeNode("any", Any)))
    if tp is tuple:
        return TypeNode("tuple", tp, (TypeNode("any", Any),))
    if is_model(tp):
        return TypeNode("model", tp)
    if isinstance(tp, str | typing.ForwardRef):
        raise TypeError(f"unresolved forward reference {tp!r}")
    return TypeNode("other", tp)


def typing_args(tp: Any) -> tuple[Any, ...]:
    """``typing.get_args`` (re-exported so other modules need not import typing for it)."""
    return typing.get_args(tp)


def related_models(node: TypeNode) -> list[type]:
    """Model classes mentioned anywhere in ``node``."""
    found = [node.type] if node.kind == "model" else []
    for child in node.args:
        found.extend(related_models(child))
    return found


def inner(node: TypeNode) -> TypeNode:
    """``node`` without its Optional wrapper."""
    return node.args[0] if node.kind == "optional" else node


# --------------------------------------------------------------------------- helpers


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


# --------------------------------------------------------------------------- load


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
        return node.type._load_field
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


# --------------------------------------------------------------------------- dump


def compile_dump(node: TypeNode) -> Fn | None:
    """A function making one value JSON-ready (models to dicts, datetimes to ISO text ...)."""
    kind = node.kind
    if kind == "optional":
        f = compile_dump(node.args[0])
        return None if f is None else _none_safe(f)
    if kind == "model" or kind == "union" or kind == "any" or kind == "other":
        return _dump_any
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


def _dump_any(v: Any) -> Any:
    """Values of unknown static type: models become dicts, containers are walked."""
    rep = getattr(v, "to_representation", None)
    if rep is not None:
        return rep()
    if isinstance(v, list | tuple):
        return [_dump_any(x) for x in v]
    if isinstance(v, dict):
        return {k: _dump_any(x) for k, x in v.items()}
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, enum.Enum):
        return v.value
    if isinstance(v, bytes):
        return base64.b64encode(v).decode("ascii")
    return v


# --------------------------------------------------------------------------- check


def type_label(node: TypeNode) -> str:
    kind = node.kind
    if kind in ("model", "enum", "other"):
        return getattr(node.type, "__name__", str(node.type))
    if kind == "optional":
        return f"{type_label(node.args[0])} or null"
    if kind in ("list", "set", "frozenset", "tuple"):
        return f"{kind}[{type_label(node.args[0])}]"
    if kind == "dict":
        return f"dict[{type_label(node.args[0])}, {type_label(node.args[1])}]"
    if kind == "union":
        return " | ".join(type_label(a) for a in node.args)
    return kind


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
