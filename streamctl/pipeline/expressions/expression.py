"""Expression, and compile_expression: expression text to a callable checked once at load."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from streamctl.pipeline.expressions.builder import NOTHING, Builder
from streamctl.pipeline.expressions.runtime import Fn
from streamctl.pipeline.expressions.source import ExpressionError, parse
from streamctl.pipeline.expressions.types import Shape, check_types


@dataclass
class Expression:
    """A compiled expression: ``fn(value, key)``; ``constant`` when it depends on neither."""

    text: str
    fn: Fn
    constant: Any = NOTHING
    names: set[str] = field(default_factory=set)
    #: the tables it reads (``table('t')[k]``, ``lookup('t', k)``)
    tables: set[str] = field(default_factory=set)
    #: what it gives where known: "number", "text", ... (see types.check_types), else None
    kind: Any = None

    @property
    def is_constant(self) -> bool:
        return self.constant is not NOTHING

    def __call__(self, value: Any, key: Any = None) -> Any:
        return self.fn(value, key)


def compile_expression(
    text: str,
    tables: Callable[[str], Any] | None = None,
    shape: Shape | None = None,
    owner: str = "the value",
) -> Expression:
    """Parse and check ``text``; raise ExpressionError (with an offset) if it is not allowed.

    ``tables(name)`` resolves the tables ``table('name')[key]`` and ``lookup('name', key)``
    read (it raises KeyError(message) for an unknown one); without it they are refused.
    ``shape`` (field name -> kind, see :mod:`.types`) checks fields and types where known;
    ``owner`` names what has those fields in messages (``model Order``)."""
    if not isinstance(text, str):
        if isinstance(text, (int, float, bool)) or text is None:
            c = Expression(repr(text), lambda v, k, c=text: c, text, set())
            c.kind = None if text is None else check_types(ast.Constant(text), "", {}, owner)
            return c
        raise ExpressionError(f"an expression must be text, not {type(text).__name__}")
    tree = parse(text)
    builder = Builder(text, tables)
    try:
        fn, const = builder.build(tree)
    except RecursionError:  # parse() bounds the depth; this is the last guard
        raise ExpressionError("expression nested too deeply; split it") from None
    kind = check_types(tree, text, shape, owner)
    return Expression(text, fn, const, builder.names, builder.tables_read, kind)
