"""Safe expressions for pipeline steps: parsed once, checked against a whitelist, run as closures.

An expression is a Python-like formula over one event: ``quantity > 0``,
``price * quantity``, ``lower(customer_id)``, ``coalesce(discount, 0)``. It is
never handed to ``eval``/``exec``/``compile()``: :func:`compile_expression`
parses it with ``ast.parse(mode="eval")``, rejects every node outside the
whitelist below (with the offset of the offending node in the text), and
builds nested closures ``fn(value, key)``.

Names:
- ``value`` is the event's value, ``key`` its key;
- any other name is a field of the value: ``value[name]`` for a mapping,
  ``getattr(value, name)`` for a record; a missing field is ``None``.

Allowed: constants; ``+ - * / // %``; unary ``- + not``; ``and or``;
comparisons including ``in``/``not in``/``is``; ``a if c else b``;
subscripts and slices; attribute access to fields (names starting with ``_``
are refused); list, tuple, set and dict displays; calls of the functions in
:data:`FUNCTIONS` by name, positional arguments only. Everything else (lambda,
comprehensions, ``**``, f-strings, calls of anything else, ``__dunder__``
names) is an :class:`ExpressionError`.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Fn = Callable[[Any, Any], Any]
_NOTHING: Any = object()

#: the longest string, list or tuple ``*`` may build (keeps ``"x" * 10**12`` out)
MAX_REPEAT = 1_000_000


class ExpressionError(ValueError):
    """An expression is not valid; ``offset`` is the 0-based position in its text."""

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def _coalesce(*args: Any) -> Any:
    for a in args:
        if a is not None:
            return a
    return None


def _lower(s: Any) -> Any:
    return s.lower() if isinstance(s, str) else s


def _upper(s: Any) -> Any:
    return s.upper() if isinstance(s, str) else s


def _strip(s: Any) -> Any:
    return s.strip() if isinstance(s, str) else s


#: name -> (function, fewest arguments, most arguments or None for any)
FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int | None]] = {
    "len": (len, 1, 1),
    "abs": (abs, 1, 1),
    "min": (min, 1, None),
    "max": (max, 1, None),
    "round": (round, 1, 2),
    "str": (str, 1, 1),
    "int": (int, 1, 1),
    "float": (float, 1, 1),
    "bool": (bool, 1, 1),
    "lower": (_lower, 1, 1),
    "upper": (_upper, 1, 1),
    "strip": (_strip, 1, 1),
    "coalesce": (_coalesce, 1, None),
}

_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
_CMPOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}
_FORBIDDEN = {
    ast.Lambda: "lambda is",
    ast.ListComp: "comprehensions are",
    ast.SetComp: "comprehensions are",
    ast.DictComp: "comprehensions are",
    ast.GeneratorExp: "comprehensions are",
    ast.NamedExpr: "':=' is",
    ast.JoinedStr: "f-strings are",
    ast.Await: "await is",
    ast.Yield: "yield is",
    ast.YieldFrom: "yield is",
    ast.Starred: "'*' unpacking is",
}
_SEQ = (str, bytes, list, tuple)


@dataclass
class Expression:
    """A compiled expression: ``fn(value, key)``; ``constant`` when it depends on neither."""

    text: str
    fn: Fn
    constant: Any = _NOTHING
    names: set[str] = field(default_factory=set)

    @property
    def is_constant(self) -> bool:
        return self.constant is not _NOTHING

    def __call__(self, value: Any, key: Any = None) -> Any:
        return self.fn(value, key)


def compile_expression(text: str) -> Expression:
    """Parse and check ``text``; raise ExpressionError (with an offset) if it is not allowed."""
    if not isinstance(text, str):
        if isinstance(text, (int, float, bool)) or text is None:
            return Expression(repr(text), lambda v, k, c=text: c, text, set())
        raise ExpressionError(f"an expression must be text, not {type(text).__name__}")
    if not text.strip():
        raise ExpressionError("empty expression")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        lead = len(text) - len(text.lstrip())
        raise ExpressionError(
            f"invalid expression: {exc.msg}", lead + (exc.offset or 1) - 1
        ) from None
    builder = _Builder(text)
    fn, const = builder.build(tree.body)
    return Expression(text, fn, const, builder.names)


class _Builder:
    """Turns a checked AST into closures; each node gives (fn, constant or _NOTHING)."""

    def __init__(self, text: str) -> None:
        self.text = text.strip()
        self.lead = len(text) - len(text.lstrip())
        self.lines = self.text.split("\n")
        self.names: set[str] = set()

    def offset(self, node: ast.AST) -> int:
        line = getattr(node, "lineno", 1)
        col = getattr(node, "col_offset", 0)
        return self.lead + sum(len(s) + 1 for s in self.lines[: line - 1]) + col

    def fail(self, node: ast.AST, message: str) -> ExpressionError:
        return ExpressionError(message, self.offset(node))

    def build(self, node: ast.AST) -> tuple[Fn, Any]:
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            what = _FORBIDDEN.get(type(node), f"{type(node).__name__} is")
            raise self.fail(node, f"{what} not allowed in expressions")
        return method(node)

    # -- leaves --------------------------------------------------------------------------
    def _Constant(self, node: ast.Constant) -> tuple[Fn, Any]:  # noqa: N802
        c = node.value
        if not isinstance(c, (int, float, str, bool, type(None))):
            raise self.fail(node, f"constant {c!r} is not allowed")
        return (lambda v, k: c), c

    def _Name(self, node: ast.Name) -> tuple[Fn, Any]:  # noqa: N802
        name = node.id
        if name.startswith("_"):
            raise self.fail(
                node, f"name {name!r} is not allowed (names starting with '_' are private)"
            )
        if name in FUNCTIONS:
            raise self.fail(node, f"{name} is a function; call it: {name}(...)")
        self.names.add(name)
        if name == "value":
            return (lambda v, k: v), _NOTHING
        if name == "key":
            return (lambda v, k: k), _NOTHING
        return field_getter(name), _NOTHING

    # -- operators -------------------------------------------------------------------------
    def _BinOp(self, node: ast.BinOp) -> tuple[Fn, Any]:  # noqa: N802
        op = _BINOPS.get(type(node.op))
        if op is None:
            what = "'**'" if isinstance(node.op, ast.Pow) else type(node.op).__name__
            raise self.fail(node, f"operator {what} is not allowed in expressions")
        left, lc = self.build(node.left)
        right, rc = self.build(node.right)
        if isinstance(node.op, ast.Mult):
            op = _safe_mul
        if lc is not _NOTHING and rc is not _NOTHING:
            try:
                c = op(lc, rc)
            except Exception as exc:  # noqa: BLE001 - a constant that cannot be computed
                raise self.fail(node, f"{type(exc).__name__}: {exc}") from None
            return (lambda v, k: c), c
        if rc is not _NOTHING:
            return (lambda v, k: op(left(v, k), rc)), _NOTHING
        if lc is not _NOTHING:
            return (lambda v, k: op(lc, right(v, k))), _NOTHING
        return (lambda v, k: op(left(v, k), right(v, k))), _NOTHING

    def _UnaryOp(self, node: ast.UnaryOp) -> tuple[Fn, Any]:  # noqa: N802
        ops: dict[type, Callable[[Any], Any]] = {
            ast.USub: operator.neg,
            ast.UAdd: operator.pos,
            ast.Not: operator.not_,
        }
        op = ops.get(type(node.op))
        if op is None:
            raise self.fail(node, f"operator {type(node.op).__name__} is not allowed")
        inner, c = self.build(node.operand)
        if c is not _NOTHING:
            value = op(c)
            return (lambda v, k: value), value
        return (lambda v, k: op(inner(v, k))), _NOTHING

    def _BoolOp(self, node: ast.BoolOp) -> tuple[Fn, Any]:  # noqa: N802
        parts = [self.build(n)[0] for n in node.values]
        if isinstance(node.op, ast.And):

            def all_(v: Any, k: Any) -> Any:
                result = True
                for p in parts:
                    result = p(v, k)
                    if not result:
                        return result
                return result

            return all_, _NOTHING

        def any_(v: Any, k: Any) -> Any:
            result = False
            for p in parts:
                result = p(v, k)
                if result:
                    return result
            return result

        return any_, _NOTHING

    def _Compare(self, node: ast.Compare) -> tuple[Fn, Any]:  # noqa: N802
        left, lc = self.build(node.left)
        ops = [_CMPOPS[type(o)] for o in node.ops]
        rights = [self.build(c) for c in node.comparators]
        if len(ops) == 1:
            op = ops[0]
            right, rc = rights[0]
            if rc is not _NOTHING:
                return (lambda v, k: op(left(v, k), rc)), _NOTHING
            return (lambda v, k: op(left(v, k), right(v, k))), _NOTHING
        fns = [r for r, _ in rights]

        def chain(v: Any, k: Any) -> Any:
            a = left(v, k)
            for op, r in zip(ops, fns):
                b = r(v, k)
                if not op(a, b):
                    return False
                a = b
            return True

        return chain, _NOTHING

    def _IfExp(self, node: ast.IfExp) -> tuple[Fn, Any]:  # noqa: N802
        test, _ = self.build(node.test)
        body, _ = self.build(node.body)
        orelse, _ = self.build(node.orelse)
        return (lambda v, k: body(v, k) if test(v, k) else orelse(v, k)), _NOTHING

    # -- access ------------------------------------------------------------------------------
    def _Attribute(self, node: ast.Attribute) -> tuple[Fn, Any]:  # noqa: N802
        inner, _ = self.build(node.value)  # report the innermost mistake first
        if node.attr.startswith("_"):
            err = self.fail(node, f"attribute {node.attr!r} is not allowed (private)")
            end = getattr(node, "end_col_offset", None)
            if end is not None and getattr(node, "end_lineno", None) == node.lineno:
                err.offset += end - len(node.attr) - node.col_offset
            raise err
        get = field_getter(node.attr)
        return (lambda v, k: get(inner(v, k), None)), _NOTHING

    def _Subscript(self, node: ast.Subscript) -> tuple[Fn, Any]:  # noqa: N802
        inner, _ = self.build(node.value)
        index, ic = self.build(node.slice)
        if isinstance(ic, str) and ic.startswith("_"):
            raise self.fail(node.slice, f"field {ic!r} is not allowed (private)")
        return (lambda v, k: _item(inner(v, k), index(v, k))), _NOTHING

    def _Slice(self, node: ast.Slice) -> tuple[Fn, Any]:  # noqa: N802
        parts = [
            self.build(p)[0] if p is not None else None for p in (node.lower, node.upper, node.step)
        ]
        lo, hi, st = parts
        return (
            lambda v, k: slice(
                lo(v, k) if lo else None, hi(v, k) if hi else None, st(v, k) if st else None
            )
        ), _NOTHING

    # -- displays ----------------------------------------------------------------------------
    def _List(self, node: ast.List) -> tuple[Fn, Any]:  # noqa: N802
        items = [self.build(e)[0] for e in node.elts]
        return (lambda v, k: [f(v, k) for f in items]), _NOTHING

    def _Tuple(self, node: ast.Tuple) -> tuple[Fn, Any]:  # noqa: N802
        items = [self.build(e)[0] for e in node.elts]
        return (lambda v, k: tuple(f(v, k) for f in items)), _NOTHING

    def _Set(self, node: ast.Set) -> tuple[Fn, Any]:  # noqa: N802
        items = [self.build(e)[0] for e in node.elts]
        return (lambda v, k: {f(v, k) for f in items}), _NOTHING

    def _Dict(self, node: ast.Dict) -> tuple[Fn, Any]:  # noqa: N802
        if any(k is None for k in node.keys):
            raise self.fail(node, "'**' unpacking is not allowed in expressions")
        pairs = [(self.build(k)[0], self.build(val)[0]) for k, val in zip(node.keys, node.values)]  # type: ignore[arg-type]
        return (lambda v, k: {a(v, k): b(v, k) for a, b in pairs}), _NOTHING

    # -- calls -----------------------------------------------------------------------------------
    def _Call(self, node: ast.Call) -> tuple[Fn, Any]:  # noqa: N802
        if not isinstance(node.func, ast.Name):
            raise self.fail(
                node, "only the built-in functions can be called: " + ", ".join(sorted(FUNCTIONS))
            )
        name = node.func.id
        entry = FUNCTIONS.get(name)
        if entry is None:
            raise self.fail(
                node, f"unknown function {name!r} (known: {', '.join(sorted(FUNCTIONS))})"
            )
        if node.keywords:
            raise self.fail(node.keywords[0], f"{name}() takes no keyword arguments")
        fun, least, most = entry
        n = len(node.args)
        if n < least or (most is not None and n > most):
            want = (
                str(least)
                if most == least
                else f"{least} to {most}"
                if most
                else f"at least {least}"
            )
            raise self.fail(node, f"{name}() takes {want} argument(s), not {n}")
        args = [self.build(a)[0] for a in node.args]
        if n == 1:
            (a,) = args
            return (lambda v, k: fun(a(v, k))), _NOTHING
        return (lambda v, k: fun(*[f(v, k) for f in args])), _NOTHING


def field_getter(name: str) -> Fn:
    """``fn(value, key)`` reading field ``name``: a mapping item or an attribute; None if missing."""

    def get(v: Any, k: Any) -> Any:
        if v.__class__ is dict:
            return v.get(name)
        if isinstance(v, dict):
            return v.get(name)
        return getattr(v, name, None)

    return get


def _item(container: Any, index: Any) -> Any:
    if isinstance(container, dict):
        return container.get(index)
    if isinstance(index, str):
        if index.startswith("_"):
            raise ValueError(f"field {index!r} is private")
        return getattr(container, index, None)
    return container[index]


def _safe_mul(a: Any, b: Any) -> Any:
    if isinstance(a, _SEQ) and isinstance(b, int) and b * len(a) > MAX_REPEAT:
        raise ValueError(f"'*' would build a sequence longer than {MAX_REPEAT:,}")
    if isinstance(b, _SEQ) and isinstance(a, int) and a * len(b) > MAX_REPEAT:
        raise ValueError(f"'*' would build a sequence longer than {MAX_REPEAT:,}")
    return a * b
