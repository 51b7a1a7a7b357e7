"""Compile a parsed expression into nested closures ``fn(value, key)``, checking each node."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from streamctl.pipeline.expressions.functions import FUNCTIONS, TABLE_FUNCTIONS
from streamctl.pipeline.expressions.runtime import (
    Fn,
    bounded,
    field_getter,
    item,
    key_refusal,
    safe_mod,
    safe_mul,
)
from streamctl.pipeline.expressions.source import ExpressionError, Source
from streamctl.pipeline.expressions.whitelist import (
    BINOPS,
    CMPOPS,
    CONSTANT_TYPES,
    FORBIDDEN,
    UNARYOPS,
)

#: "not a constant": the value of a sub-expression that depends on the event
NOTHING: Any = object()


class Builder:
    """Turns an AST into closures, refusing what is not whitelisted as it goes.

    Each node gives (fn, its constant value or NOTHING); constants are folded at build
    time. ``names`` collects the fields and names the expression reads.
    """

    def __init__(self, text: str, tables: Callable[[str], Any] | None = None) -> None:
        self.source = Source(text)
        self.names: set[str] = set()
        #: ``tables(name)``: the table an expression may read (raises KeyError with a
        #: message when there is none); None: table reads are not allowed here
        self.tables = tables
        #: the tables the expression reads
        self.tables_read: set[str] = set()

    def fail(self, node: ast.AST, message: str) -> ExpressionError:
        return self.source.fail(node, message)

    def build(self, node: ast.AST) -> tuple[Fn, Any]:
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            what = FORBIDDEN.get(type(node), f"{type(node).__name__} is")
            raise self.fail(node, f"{what} not allowed in expressions")
        return method(node)

    # -- leaves --------------------------------------------------------------------------
    def _Constant(self, node: ast.Constant) -> tuple[Fn, Any]:
        c = node.value
        if not isinstance(c, CONSTANT_TYPES):
            raise self.fail(node, f"constant {c!r} is not allowed")
        return (lambda v, k: c), c

    def _Name(self, node: ast.Name) -> tuple[Fn, Any]:
        name = node.id
        if name.startswith("_"):
            raise self.fail(
                node, f"name {name!r} is not allowed (names starting with '_' are private)"
            )
        if name in FUNCTIONS:
            raise self.fail(node, f"{name} is a function; call it: {name}(...)")
        self.names.add(name)
        if name == "value":
            return (lambda v, k: v), NOTHING
        if name == "key":
            return (lambda v, k: k), NOTHING
        return field_getter(name), NOTHING

    # -- operators -------------------------------------------------------------------------
    def _BinOp(self, node: ast.BinOp) -> tuple[Fn, Any]:
        op = BINOPS.get(type(node.op))
        if op is None:
            what = "'**'" if isinstance(node.op, ast.Pow) else type(node.op).__name__
            raise self.fail(node, f"operator {what} is not allowed in expressions")
        left, lc = self.build(node.left)
        right, rc = self.build(node.right)
        if isinstance(node.op, ast.Mult):
            op = safe_mul
        elif isinstance(node.op, ast.Mod):
            if isinstance(lc, (str, bytes)):
                raise self.fail(node, "'%' formatting of strings is not allowed; use str() and '+'")
            op = safe_mod
        if lc is not NOTHING and rc is not NOTHING:
            try:
                c = bounded(op(lc, rc))
            except Exception as exc:  # a constant that cannot be computed
                raise self.fail(node, f"{type(exc).__name__}: {exc}") from None
            return (lambda v, k: c), c
        if rc is not NOTHING:
            return (lambda v, k: op(left(v, k), rc)), NOTHING
        if lc is not NOTHING:
            return (lambda v, k: op(lc, right(v, k))), NOTHING
        return (lambda v, k: op(left(v, k), right(v, k))), NOTHING

    def _UnaryOp(self, node: ast.UnaryOp) -> tuple[Fn, Any]:
        op = UNARYOPS.get(type(node.op))
        if op is None:
            raise self.fail(node, f"operator {type(node.op).__name__} is not allowed")
        inner, c = self.build(node.operand)
        if c is not NOTHING:
            try:
                value = op(c)
            except Exception as exc:  # a constant that cannot be computed: -'a'
                raise self.fail(node, f"{type(exc).__name__}: {exc}") from None
            return (lambda v, k: value), value
        return (lambda v, k: op(inner(v, k))), NOTHING

    def _BoolOp(self, node: ast.BoolOp) -> tuple[Fn, Any]:
        parts = [self.build(n)[0] for n in node.values]
        if isinstance(node.op, ast.And):

            def all_(v: Any, k: Any) -> Any:
                result = True
                for p in parts:
                    result = p(v, k)
                    if not result:
                        return result
                return result

            return all_, NOTHING

        def any_(v: Any, k: Any) -> Any:
            result = False
            for p in parts:
                result = p(v, k)
                if result:
                    return result
            return result

        return any_, NOTHING

    def _Compare(self, node: ast.Compare) -> tuple[Fn, Any]:
        left, lc = self.build(node.left)
        ops = [CMPOPS[type(o)] for o in node.ops]
        rights = [self.build(c) for c in node.comparators]
        if len(ops) == 1:
            op = ops[0]
            right, rc = rights[0]
            if rc is not NOTHING:
                return (lambda v, k: op(left(v, k), rc)), NOTHING
            return (lambda v, k: op(left(v, k), right(v, k))), NOTHING
        fns = [r for r, _ in rights]

        def chain(v: Any, k: Any) -> Any:
            a = left(v, k)
            for op, r in zip(ops, fns):
                b = r(v, k)
                if not op(a, b):
                    return False
                a = b
            return True

        return chain, NOTHING

    def _IfExp(self, node: ast.IfExp) -> tuple[Fn, Any]:
        test, _ = self.build(node.test)
        body, _ = self.build(node.body)
        orelse, _ = self.build(node.orelse)
        return (lambda v, k: body(v, k) if test(v, k) else orelse(v, k)), NOTHING

    # -- access ------------------------------------------------------------------------------
    def _Attribute(self, node: ast.Attribute) -> tuple[Fn, Any]:
        inner, _ = self.build(node.value)  # report the innermost mistake first
        if node.attr.startswith("_"):
            err = self.fail(node, f"attribute {node.attr!r} is not allowed (private)")
            at = self.source.attribute_offset(node)
            if at is not None:
                err.offset = at
            raise err
        get = field_getter(node.attr)
        return (lambda v, k: get(inner(v, k), None)), NOTHING

    def _Subscript(self, node: ast.Subscript) -> tuple[Fn, Any]:
        v = node.value
        if isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "table":
            get = _keyed("table", self._table(v, 1).get)
            index, _ = self._key("table", node.slice)
            return (lambda v, k: get(index(v, k))), NOTHING
        inner, _ = self.build(node.value)
        index, ic = self.build(node.slice)
        if isinstance(ic, str) and ic.startswith("_"):
            raise self.fail(node.slice, f"field {ic!r} is not allowed (private)")
        return (lambda v, k: item(inner(v, k), index(v, k))), NOTHING

    def _key(self, name: str, node: ast.AST) -> tuple[Fn, Any]:
        """The table key expression ``node`` of ``name()``, refused at load time when it is
        written as a list, mapping or set (``lookup('t', [1])``), as :func:`_keyed` refuses
        one computed at run time."""
        kind = _DISPLAYS.get(type(node))
        if kind is not None:
            raise self.fail(node, key_refusal(name, kind))
        return self.build(node)

    def _Slice(self, node: ast.Slice) -> tuple[Fn, Any]:
        parts = [
            self.build(p)[0] if p is not None else None for p in (node.lower, node.upper, node.step)
        ]
        lo, hi, st = parts
        return (
            lambda v, k: slice(
                lo(v, k) if lo else None, hi(v, k) if hi else None, st(v, k) if st else None
            )
        ), NOTHING

    # -- displays ----------------------------------------------------------------------------
    def _List(self, node: ast.List) -> tuple[Fn, Any]:
        items = [self.build(e)[0] for e in node.elts]
        return (lambda v, k: [f(v, k) for f in items]), NOTHING

    def _Tuple(self, node: ast.Tuple) -> tuple[Fn, Any]:
        items = [self.build(e)[0] for e in node.elts]
        return (lambda v, k: tuple(f(v, k) for f in items)), NOTHING

    def _Set(self, node: ast.Set) -> tuple[Fn, Any]:
        items = [self.build(e)[0] for e in node.elts]
        return (lambda v, k: {f(v, k) for f in items}), NOTHING

    def _Dict(self, node: ast.Dict) -> tuple[Fn, Any]:
        keys = [k for k in node.keys if k is not None]
        if len(keys) < len(node.keys):
            raise self.fail(node, "'**' unpacking is not allowed in expressions")
        pairs = [(self.build(k)[0], self.build(val)[0]) for k, val in zip(keys, node.values)]
        return (lambda v, k: {a(v, k): b(v, k) for a, b in pairs}), NOTHING

    # -- calls -----------------------------------------------------------------------------------
    def _table(self, node: ast.Call, most: int) -> Any:
        """The table a ``table('name')`` or ``lookup('name', ...)`` call reads."""
        name = node.func.id  # type: ignore[attr-defined]
        if node.keywords:
            raise self.fail(node.keywords[0], f"{name}() takes no keyword arguments")
        least = 1 if name == "table" else 2
        if not least <= len(node.args) <= most:
            want = "('name')[key]" if name == "table" else "('name', key) or ('name', key, default)"
            raise self.fail(node, f"{name}() is called as {name}{want}")
        first = node.args[0]
        if not isinstance(first, ast.Constant) or not isinstance(first.value, str):
            raise self.fail(first, f"{name}(): the table name must be quoted text, e.g. 'products'")
        if self.tables is None:
            raise self.fail(node, f"{name}() cannot read tables here")
        try:
            table = self.tables(first.value)
        except KeyError as exc:
            raise self.fail(first, str(exc.args[0])) from None
        self.tables_read.add(first.value)
        return table

    def _Call(self, node: ast.Call) -> tuple[Fn, Any]:
        if not isinstance(node.func, ast.Name):
            raise self.fail(
                node, "only the built-in functions can be called: " + ", ".join(sorted(FUNCTIONS))
            )
        name = node.func.id
        if name == "table":
            raise self.fail(node, "table('name') is read with a key: table('name')[key]")
        if name in TABLE_FUNCTIONS:
            get = _keyed("lookup", self._table(node, 3).get)
            key, _ = self._key("lookup", node.args[1])
            if len(node.args) == 3:
                default, _ = self.build(node.args[2])
                return (lambda v, k: get(key(v, k), default(v, k))), NOTHING
            return (lambda v, k: get(key(v, k))), NOTHING
        entry = FUNCTIONS.get(name)
        if entry is None:
            known = ", ".join(sorted([*FUNCTIONS, *TABLE_FUNCTIONS]))
            raise self.fail(node, f"unknown function {name!r} (known: {known})")
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
        if n == 0:
            return (lambda v, k: fun()), NOTHING
        if n == 1:
            (a,) = args
            return (lambda v, k: fun(a(v, k))), NOTHING
        return (lambda v, k: fun(*[f(v, k) for f in args])), NOTHING


#: the literal displays no table can take as a key, as :func:`key_refusal` names them
_DISPLAYS: dict[type, str] = {
    ast.List: "list",
    ast.ListComp: "list",
    ast.Dict: "dict",
    ast.DictComp: "dict",
    ast.Set: "set",
    ast.SetComp: "set",
}


def _keyed(name: str, get: Callable[..., Any]) -> Callable[..., Any]:
    """``get(key, *default)`` refusing a key no table can hold (a list, a mapping, a set:
    Faust table keys are hashable) with a ValueError, not a silent null."""

    def read(key: Any, *default: Any) -> Any:
        if isinstance(key, (list, dict, set, bytearray)):
            raise ValueError(key_refusal(name, type(key).__name__))
        return get(key, *default)

    return read
