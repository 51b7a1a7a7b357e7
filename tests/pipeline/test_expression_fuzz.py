"""Fuzz the expression parser (#13): random token strings and random syntax trees never
raise anything but the positioned ExpressionError (a pipeline error at file:line:column),
and every expression that compiles is within the parser's bounds on length, parts and
depth, the limits that bound its time (checked here by what it refuses, not by a clock)."""

from __future__ import annotations

import ast
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamctl.pipeline.expressions import FUNCTIONS, ExpressionError, compile_expression
from streamctl.pipeline.expressions.source import (
    _UNPLACED,
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_NODES,
    safe_navigation,
)
from streamctl.pipeline.expressions.types import NUMBER, TEXT

NAMES = ["x", "value", "key", "price", "name", "_x", "__class__", "customer", "table", "lookup"]
TOKENS = [
    *NAMES,
    *FUNCTIONS,
    "nosuchfn",
    *["0", "1", "2.5", "1e308", "9" * 50, "0x1f", "1_000", "1j"],
    *["'a'", '"b"', "''", "'\\x00'", "f'x'", "b'x'", "'%d'", "'''"],
    *["+", "-", "*", "/", "//", "%", "**", "<", "<=", "==", "!=", ">", ">=", "<<", "~", "@"],
    *["in", "not", "is", "and", "or", "if", "else", "lambda", "for", "yield", "await"],
    *[".", "?.", ",", ":", "(", ")", "[", "]", "{", "}", "=", ":=", ";", "\\", "\n", "\t", "#"],
    *["import", "__import__", "*args", "**kw", "...", "None", "True", "\x00", "é", "\u2028"],
]
SHAPE = {"price": NUMBER, "name": TEXT, "x": None, "customer": None}


class Tables:
    """A table resolver as a step gives it: 'products' exists, any other name is unknown."""

    def __call__(self, name: str) -> Any:
        if name != "products":
            raise KeyError(f"unknown table {name!r}")
        return {}


def _compile(text: str) -> None:
    """compile_expression with and without a model's shape: it compiles or it raises an
    ExpressionError placed inside the text; and what compiles is within the bounds."""
    for shape in (None, SHAPE):
        try:
            compile_expression(text, Tables(), shape, "model M")
        except ExpressionError as exc:
            assert 0 <= exc.offset <= len(text), (exc.offset, len(text))
            assert exc.message and "\n" not in exc.message
            continue
        assert len(text) <= MAX_LENGTH
        nodes, depth = _size(ast.parse(safe_navigation(text.strip()), mode="eval").body)
        assert nodes <= MAX_NODES and depth <= MAX_DEPTH


def _size(root: ast.AST) -> tuple[int, int]:
    """The parts and the depth of a tree, counted as the parser counts them."""
    count, deepest, stack = 0, 0, [(root, 1)]
    while stack:
        node, depth = stack.pop()
        count, deepest = count + 1, max(deepest, depth)
        stack += [
            (c, depth + 1) for c in ast.iter_child_nodes(node) if not isinstance(c, _UNPLACED)
        ]
    return count, deepest


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=12), st.sampled_from(["", " "]))
def test_random_token_strings_give_only_positioned_errors(tokens: list[str], sep: str) -> None:
    _compile(sep.join(tokens))


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_random_text_gives_only_positioned_errors(text: str) -> None:
    _compile(text)


_FIELDS = ["x", "price", "name", "customer", "value", "key", "missing"]
_VALUES = st.one_of(
    st.integers(-(10**30), 10**30),
    st.floats(width=32),
    st.text(max_size=3),
    st.booleans(),
    st.none(),
)
_LOAD = ast.Load()
_BINOPS = [ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod] * 3 + [ast.Pow, ast.LShift]
_UNARY = [ast.USub, ast.UAdd, ast.Not] * 3 + [ast.Invert]
_CMPOPS = [ast.Lt, ast.Eq, ast.NotEq, ast.GtE, ast.In, ast.NotIn, ast.Is]
_CALLS = [*FUNCTIONS, "lookup", "nosuchfn"]
#: node kinds, the allowed ones more often, so that trees get past the first refusal
_KINDS = ["binop", "unary", "compare", "call"] * 2 + [
    *["boolop", "ifexp", "attribute", "subscript", "list", "tuple", "dict", "comp", "lambda"]
]


@st.composite
def _tree(draw: st.DrawFn, depth: int = 0) -> ast.expr:
    """A random expression tree (drawn by hand, so a failure prints as short text)."""
    if depth >= 5 or draw(st.integers(0, 2)) == 0:
        pick = draw(st.integers(0, 7))
        if pick < 3:
            return ast.Name(draw(st.sampled_from(_FIELDS)), _LOAD)
        if pick < 6:
            return ast.Constant(draw(_VALUES))
        if pick == 6:
            return ast.Name(draw(st.sampled_from(["_x", "__class__", "table", "len"])), _LOAD)
        return ast.Constant(draw(st.binary(max_size=3)))
    sub = _tree(depth + 1)
    kind = draw(st.sampled_from(_KINDS))
    one = st.sampled_from
    if kind == "binop":
        return ast.BinOp(draw(sub), draw(one(_BINOPS))(), draw(sub))
    if kind == "unary":
        return ast.UnaryOp(draw(one(_UNARY))(), draw(sub))
    if kind == "compare":
        return ast.Compare(draw(sub), [draw(one(_CMPOPS))()], [draw(sub)])
    if kind == "call":
        args = draw(st.lists(sub, max_size=3))
        return ast.Call(ast.Name(draw(one(_CALLS)), _LOAD), args, [])
    if kind == "boolop":
        return ast.BoolOp(
            draw(one([ast.And, ast.Or]))(), draw(st.lists(sub, min_size=2, max_size=3))
        )
    if kind == "ifexp":
        return ast.IfExp(draw(sub), draw(sub), draw(sub))
    if kind == "attribute":
        return ast.Attribute(draw(sub), draw(one(["a", "name", "price", "_p"])), _LOAD)
    if kind == "subscript":
        return ast.Subscript(draw(sub), draw(sub), _LOAD)
    if kind in ("list", "tuple"):
        items = draw(st.lists(sub, min_size=kind == "tuple", max_size=3))
        return ast.List(items, _LOAD) if kind == "list" else ast.Tuple(items, _LOAD)
    if kind == "dict":
        return ast.Dict([draw(sub)], [draw(sub)])
    body = draw(sub)
    if kind == "comp":
        return ast.ListComp(body, [ast.comprehension(ast.Name("i", ast.Store()), body, [], 0)])
    return ast.Lambda(ast.arguments([], [], None, [], [], None, []), body)


_TREES = _tree().map(lambda t: ast.unparse(ast.fix_missing_locations(ast.Expression(t))))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TREES)
def test_random_syntax_trees_give_only_positioned_errors(text: str) -> None:
    _compile(text)


@settings(max_examples=50, deadline=None)
@given(
    st.integers(MAX_DEPTH, 4 * MAX_DEPTH),
    st.sampled_from(["-{}", "not {}", "({} + 1)", "abs({})", "[{}]", "x[{}]", "{}.a", "-({})"]),
)
def test_nesting_past_the_bound_is_refused_with_its_error(levels: int, wrap: str) -> None:
    text = "x"
    for _ in range(levels):
        text = wrap.format(text)
    try:
        compile_expression(text, Tables(), SHAPE, "model M")
    except ExpressionError as exc:
        assert "nested" in exc.message, exc.message
        assert 0 <= exc.offset <= len(text)
    else:
        raise AssertionError(f"{levels} levels of {wrap!r} compiled")


@settings(max_examples=20, deadline=None)
@given(st.integers(MAX_LENGTH + 1, 4 * MAX_LENGTH), st.sampled_from(["1+", "'a'+", "x or "]))
def test_text_past_the_length_bound_is_refused_unparsed(length: int, part: str) -> None:
    text = (part * (length // len(part) + 1))[:length] + "1"
    try:
        compile_expression(text)
    except ExpressionError as exc:
        assert exc.message.startswith(f"expression is {len(text):,} characters long"), exc.message
    else:
        raise AssertionError("a text past MAX_LENGTH compiled")


@settings(max_examples=20, deadline=None)
@given(st.integers(MAX_NODES // 2 + 1, 2 * MAX_NODES))
def test_more_parts_than_the_bound_is_refused(n: int) -> None:
    text = "[" + ", ".join(["x"] * n) + "]"  # n + 1 parts, two levels deep
    try:
        compile_expression(text)
    except ExpressionError as exc:
        assert f"more than {MAX_NODES} parts" in exc.message
        assert n + 1 > MAX_NODES
    else:
        assert n + 1 <= MAX_NODES
