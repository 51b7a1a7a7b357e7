"""The YAML type language (``dict[str, list[Order]]?``): parse it and resolve it to Python types."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from types import GenericAlias
from typing import Any, Optional

SCALARS: dict[str, Any] = {
    "int": int,
    "float": float,
    "bool": bool,
    "str": str,
    "bytes": bytes,
    "decimal": Decimal,
    "datetime": datetime,
    "date": date,
    "any": Any,
}
GENERICS = {"list": 1, "set": 1, "dict": 2, "optional": 1}


def any_case(word: str) -> str:
    """An ECMA 262 / Python regex matching ``word`` in any case (JSON Schema has no flags)."""
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) for c in word)


#: a type expression :func:`parse_type_expr` may take, for the JSON Schema (ECMA 262
#: regex): names are the built-in types in any case, or models (CapWords: a model's
#: name starts with a capital letter, as a Record class), with ``[`` ``]`` ``,`` ``?``
TYPE_PATTERN = (
    r"^(?:\s|[\[\],?]|(?:"
    + "|".join(any_case(w) for w in sorted([*SCALARS, *GENERICS]))
    + r")(?![A-Za-z0-9_.])|[A-Z][A-Za-z0-9_]*(?![A-Za-z0-9_.]))+$"
)
_TOKEN = re.compile(r"\s*(?:([A-Za-z_][A-Za-z0-9_.]*)|(\[|\]|,|\?))")

# A parsed type expression: ("scalar", name) | ("model", name) | (generic, *children)
TypeAst = tuple[Any, ...]


def parse_type_expr(text: str) -> TypeAst:
    """Parse ``dict[str, list[Order]]?`` into a small tuple tree; ValueError when malformed."""
    tokens: list[str] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError(f"unexpected {text[pos:]!r} in type {text!r}")
        tokens.append(m.group(1) or m.group(2))
        pos = m.end()
    if not tokens:
        raise ValueError("empty type")
    ast, rest = _parse(tokens, text)
    if rest:
        raise ValueError(f"unexpected {' '.join(rest)!r} in type {text!r}")
    return ast


def _parse(tokens: list[str], text: str) -> tuple[TypeAst, list[str]]:
    head, rest = tokens[0], tokens[1:]
    if head in "[],?":
        raise ValueError(f"expected a type name in {text!r}")
    lowered = head.lower()
    ast: TypeAst
    if rest and rest[0] == "[":
        if lowered not in GENERICS:
            raise ValueError(f"{head!r} takes no parameters in {text!r}")
        args: list[TypeAst] = []
        rest = rest[1:]
        while True:
            arg, rest = _parse(rest, text) if rest else (None, [])
            if arg is None:
                raise ValueError(f"unfinished type {text!r}")
            args.append(arg)
            if rest and rest[0] == ",":
                rest = rest[1:]
                continue
            if rest and rest[0] == "]":
                rest = rest[1:]
                break
            raise ValueError(f"expected ',' or ']' in {text!r}")
        if len(args) != GENERICS[lowered]:
            raise ValueError(f"{head} takes {GENERICS[lowered]} parameter(s) in {text!r}")
        if lowered == "dict" and args[0] != ("scalar", "str"):
            raise ValueError(f"dict keys must be str (JSON object keys) in {text!r}")
        ast = (lowered, *args)
    elif lowered in GENERICS:
        raise ValueError(f"{head} needs parameters, e.g. {lowered}[int], in {text!r}")
    elif lowered in SCALARS:
        ast = ("scalar", lowered)
    else:
        ast = ("model", head)
    if rest and rest[0] == "?":
        rest = rest[1:]
        ast = ("optional", ast)
    return ast, rest


def models_in(ast: TypeAst) -> list[str]:
    """Names of the models a type refers to."""
    if ast[0] == "model":
        return [ast[1]]
    if ast[0] == "scalar":
        return []
    return [name for child in ast[1:] for name in models_in(child)]


def python_type(ast: TypeAst, built: Mapping[str, type]) -> Any:
    """The runtime type object (``Optional[list[Order]]``...) for a parsed type."""
    kind = ast[0]
    if kind == "scalar":
        return SCALARS[ast[1]]
    if kind == "model":
        return built[ast[1]]
    args = tuple(python_type(a, built) for a in ast[1:])
    # Runtime type objects built from values, not annotations: GenericAlias(list, (T,))
    # is exactly what ``list[T]`` evaluates to.
    if kind == "optional":
        return Optional[args[0]]  # noqa: UP045 - a runtime value; typing.Optional as today
    if kind == "list":
        return GenericAlias(list, args)
    if kind == "set":
        return GenericAlias(set, args)
    return GenericAlias(dict, args)


def base_kind(ast: TypeAst) -> str:
    """The scalar name under an Optional, or the generic/model kind."""
    while ast[0] == "optional":
        ast = ast[1]
    kind: str = ast[1] if ast[0] == "scalar" else ast[0]
    return kind
