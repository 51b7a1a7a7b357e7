"""Type compatibility of an expression where the model declares its fields' types.

:func:`check_types` walks a parsed expression once, at load time, with the fields
the value is known to have (a model's, plus what earlier steps computed), and refuses
what would fail or be wrong for every record: an unknown field, arithmetic on text
(``name - 1``, ``name + 1``), a number compared with text (``quantity > '5'``), a
math function of text (``abs(name)``). It gives the expression's kind when known, so
a ``sum`` over a text value is refused too. Where a type is not known (no model, a
subscript, a table read, ``key``) nothing is checked: the check never refuses what
could work.
"""

from __future__ import annotations

import ast
import datetime
import decimal
import difflib
import typing
from typing import Any

from streamctl.pipeline.expressions.runtime import key_refusal
from streamctl.pipeline.expressions.source import ExpressionError, Source, shorten
from streamctl.wording import with_article

#: kinds: "number", "text", "boolean", "list", "mapping", "datetime", a Record class
#: (its fields are known), or None (not known: never checked)
Kind = Any
#: the fields the value is known to have, name -> kind; None when the shape is not known
Shape = dict[str, Kind]

NUMBER, TEXT, BOOLEAN = "number", "text", "boolean"
#: the functions whose first argument must be text (see functions._text)
TEXT_ARGS = ("lower", "upper", "strip", "split", "replace", "startswith", "endswith")
_OF_TYPE = {
    int: NUMBER,
    float: NUMBER,
    decimal.Decimal: NUMBER,
    str: TEXT,
    bytes: "bytes",
    bool: BOOLEAN,
    list: "list",
    tuple: "list",
    set: "list",
    frozenset: "list",
    dict: "mapping",
    datetime.datetime: "datetime",
    datetime.date: "datetime",
}
#: what each function gives (None: depends on its arguments, or not known)
RETURNS = {
    **dict.fromkeys(["len", "round", "floor", "ceil", "int", "float", "abs"], NUMBER),
    **dict.fromkeys(["epoch", "parse_time", "duration", "now"], NUMBER),
    **dict.fromkeys(["seconds", "minutes", "hours", "days"], NUMBER),
    **dict.fromkeys(["str", "format_time", "join"], TEXT),
    **dict.fromkeys(["startswith", "endswith", "bool"], BOOLEAN),
    "split": "list",
}
#: functions whose every argument must be a number (when its kind is known)
NUMERIC_ARGS = {"abs", "floor", "ceil", "round", "seconds", "minutes", "hours", "days"}
_ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)


def kind_of(tp: Any) -> Kind:
    """The kind of a model field's Python type: ``int`` is "number", ``Optional[str]``
    "text", a Record class itself; None when it is not one of these."""
    origin = typing.get_origin(tp)
    if origin is typing.Union:
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return kind_of(inner[0]) if len(inner) == 1 else None
    if origin is not None:
        return _OF_TYPE.get(origin)
    if isinstance(tp, type) and model_shape(tp) is not None:
        return tp
    return _OF_TYPE.get(tp)


def model_shape(model: Any) -> Shape | None:
    """The fields of a Record class as kinds; None when ``model`` is not one."""
    fields = getattr(getattr(model, "_options", None), "fields", None)
    if not isinstance(fields, dict):
        return None
    return {name: kind_of(tp) for name, tp in fields.items()}


def describe(kind: Kind) -> str:
    if isinstance(kind, type):
        return f"{with_article(kind.__name__)} record"
    return {NUMBER: "a number", TEXT: "text", BOOLEAN: "true/false"}.get(
        kind, with_article(str(kind))
    )


class TypeChecker:
    """Checks one expression's tree against ``shape`` (what ``owner`` names in messages)."""

    def __init__(self, text: str, shape: Shape, owner: str) -> None:
        self.source = Source(text)
        self.shape = shape
        self.owner = owner

    def fail(self, node: ast.AST, message: str) -> ExpressionError:
        return self.source.fail(node, message)

    def kind(self, node: ast.AST) -> Kind:
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            for child in ast.iter_child_nodes(node):
                self.kind(child)
            return None
        return method(node)

    def _what(self, node: ast.AST, kind: Kind) -> str:
        """How a message names an operand: ``field 'name' (text)`` or ``'5' (text)``."""
        if isinstance(node, ast.Name):
            return f"field {node.id!r} ({describe(kind)})"
        if isinstance(node, ast.Constant):
            return f"{node.value!r} ({describe(kind)})"
        return describe(kind)

    def _named(self, node: ast.AST) -> str:
        """How a message names an operand whose kind it states: ``field 'name' of model O``."""
        if isinstance(node, ast.Name):
            return f"field {node.id!r} of {self.owner}"
        if isinstance(node, ast.Constant):
            return repr(node.value)
        return repr(shorten(ast.unparse(node), 40))

    # -- leaves ------------------------------------------------------------------------
    def _Constant(self, node: ast.Constant) -> Kind:
        v = node.value
        return BOOLEAN if isinstance(v, bool) else _OF_TYPE.get(type(v))

    def _Name(self, node: ast.Name) -> Kind:
        if node.id in ("value", "key"):
            return None
        return self._field(node, node.id, self.shape, self.owner)

    def _field(self, node: ast.AST, name: str, shape: Shape, owner: str) -> Kind:
        if name in shape:
            return shape[name]
        hint = difflib.get_close_matches(name, list(shape), n=1)
        known = ", ".join(sorted(shape)[:12]) + (", ..." if len(shape) > 12 else "")
        raise self.fail(
            node,
            f"unknown field {name!r}"
            + (f" (did you mean {hint[0]!r}?)" if hint else "")
            + f"; {owner} has: {known or 'no fields'}",
        )

    def _Attribute(self, node: ast.Attribute) -> Kind:
        inner = self.kind(node.value)
        if isinstance(inner, type):
            shape = model_shape(inner) or {}
            try:
                return self._field(node, node.attr, shape, f"model {inner.__name__}")
            except ExpressionError as exc:  # point at the attribute, not at its owner
                at = self.source.attribute_offset(node)
                if at is not None:
                    exc.offset = at
                raise
        return None

    # -- operators ---------------------------------------------------------------------
    def _BinOp(self, node: ast.BinOp) -> Kind:
        left, right = self.kind(node.left), self.kind(node.right)
        sym = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//"}.get(
            type(node.op), "%"
        )
        numeric = {NUMBER, BOOLEAN}
        if isinstance(node.op, ast.Add) and left == right == TEXT:
            return TEXT
        if isinstance(node.op, ast.Mult) and {left, right} == {TEXT, NUMBER}:
            return TEXT  # repetition
        for side, kind in ((node.left, left), (node.right, right)):
            if kind == TEXT:
                other = right if side is node.left else left
                if isinstance(node.op, ast.Add) and other is None:
                    return None  # text + something unknown: may be text
                raise self.fail(
                    side,
                    f"'{sym}' needs numbers, but {self._named(side)} is text; "
                    "convert it with int() or float()"
                    + (", or the other side with str()" if isinstance(node.op, ast.Add) else ""),
                )
        if left in numeric and right in numeric:
            return NUMBER
        return None

    def _UnaryOp(self, node: ast.UnaryOp) -> Kind:
        inner = self.kind(node.operand)
        if isinstance(node.op, ast.Not):
            return BOOLEAN
        if inner == TEXT:
            raise self.fail(
                node.operand,
                f"unary '-' or '+' needs a number, but {self._named(node.operand)} is text",
            )
        return inner if inner in (NUMBER, BOOLEAN) else None

    def _BoolOp(self, node: ast.BoolOp) -> Kind:
        for v in node.values:
            self.kind(v)
        return None

    def _Compare(self, node: ast.Compare) -> Kind:
        nodes = [node.left, *node.comparators]
        kinds = [self.kind(n) for n in nodes]
        for i, op in enumerate(node.ops):
            a, b = kinds[i], kinds[i + 1]
            pair = {a, b}
            if isinstance(op, _ORDERING) and TEXT in pair and pair & {NUMBER, BOOLEAN}:
                raise self.fail(
                    nodes[i],
                    f"comparing {self._what(nodes[i], a)} with {self._what(nodes[i + 1], b)}"
                    " never holds as meant; convert one side with str(), int() or float()",
                )
        return BOOLEAN

    def _IfExp(self, node: ast.IfExp) -> Kind:
        self.kind(node.test)
        body, orelse = self.kind(node.body), self.kind(node.orelse)
        return body if body == orelse else None

    def _Call(self, node: ast.Call) -> Kind:
        name = node.func.id if isinstance(node.func, ast.Name) else ""
        kinds = [self.kind(a) for a in node.args]
        if name in NUMERIC_ARGS:
            for arg, kind in zip(node.args, kinds):
                if kind == TEXT:
                    raise self.fail(
                        arg,
                        f"{name}() needs a number, but {self._named(arg)} is text; "
                        "convert it with int() or float()",
                    )
        if name in TEXT_ARGS and kinds and kinds[0] not in (None, TEXT):
            raise self.fail(
                node.args[0],
                f"{name}() needs text, but {self._named(node.args[0])} is "
                f"{describe(kinds[0])}; convert it with str()",
            )
        if name == "lookup" and len(kinds) > 1:
            self._table_key(name, node.args[1], kinds[1])
        if name in ("lower", "upper", "strip", "replace"):
            return kinds[0] if kinds else None
        if name == "coalesce":
            known = {k for k in kinds if k is not None}
            return known.pop() if len(known) == 1 and None not in kinds else None
        if name in ("min", "max") and len(kinds) > 1:
            return NUMBER if set(kinds) <= {NUMBER} else None
        return RETURNS.get(name)

    def _Subscript(self, node: ast.Subscript) -> Kind:
        self.kind(node.value)
        key = self.kind(node.slice)
        v = node.value
        if isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "table":
            self._table_key("table", node.slice, key)
        return None

    def _table_key(self, name: str, node: ast.AST, kind: Kind) -> None:
        """Refuse a table key the model says is a list or a mapping (``lookup('t', tags)``)."""
        if kind in ("list", "mapping"):
            raise self.fail(node, f"{key_refusal(name, kind)} ({self._named(node)})")


def check_types(tree: ast.expr, text: str, shape: Shape | None, owner: str) -> Kind:
    """The kind of the expression ``tree`` (parsed from ``text``); ExpressionError (with the
    offset of the offending part) for an unknown field or an operation on incompatible
    kinds. ``shape`` None: nothing is known, nothing is checked."""
    if shape is None:
        return None
    return TypeChecker(text, shape, owner).kind(tree)
