"""Parse a field annotation (``Optional[list[Order]]``...) into a tree of TypeNodes."""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable, Mapping, MutableMapping, MutableSequence, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

#: What load and dump compile to: one value in, one value out.
Fn = Callable[[Any], Any]


@dataclass(frozen=True)
class TypeNode:
    """One level of a parsed annotation: ``kind`` plus child nodes in ``args``."""

    kind: str
    type: Any
    args: tuple[TypeNode, ...] = ()


_SCALARS = {int: "int", float: "float", bool: "bool", str: "str", bytes: "bytes"}
# Bare classes only: a bare ``typing.List`` or ``typing.Dict`` has an origin (list, dict)
# and is parsed with the subscripted forms.
_LISTS = (list, Sequence, MutableSequence)
_DICTS = (dict, Mapping, MutableMapping)


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
            if args and args != ((),):
                # Tuple[Account, Account], tuple[int, datetime]: one type per position
                return TypeNode("fixed_tuple", tp, tuple(parse_type(a) for a in args))
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


def type_label(node: TypeNode) -> str:
    """How error messages name the type: ``list[int]``, ``Order or null``..."""
    kind = node.kind
    if kind in ("model", "enum", "other"):
        return getattr(node.type, "__name__", str(node.type))
    if kind == "optional":
        return f"{type_label(node.args[0])} or null"
    if kind in ("list", "set", "frozenset", "tuple"):
        return f"{kind}[{type_label(node.args[0])}]"
    if kind == "dict":
        return f"dict[{type_label(node.args[0])}, {type_label(node.args[1])}]"
    if kind == "fixed_tuple":
        return f"tuple[{', '.join(type_label(a) for a in node.args)}]"
    if kind == "union":
        return " | ".join(type_label(a) for a in node.args)
    return kind
