"""Safe expressions for pipeline steps: parsed once, checked against a whitelist, run as closures.

An expression is a Python-like formula over one event: ``quantity > 0``,
``price * quantity``, ``lower(customer_id)``, ``coalesce(discount, 0)``. It is
never handed to ``eval``/``exec``/``compile()``: :func:`compile_expression`
parses it with ``ast.parse(mode="eval")``, rejects every node outside the
whitelist below (with the offset of the offending node in the text), and
builds nested closures ``fn(value, key)``.

Modules: ``source`` parses the text and maps nodes back to offsets,
``whitelist`` holds the allowed operators, ``functions`` the callable
functions, ``builder`` checks each node and turns it into a closure,
``runtime`` is what those closures call per event, and ``expression`` ties
them together in :func:`compile_expression`.

Names:
- ``value`` is the event's value, ``key`` its key;
- any other name is a field of the value: ``value[name]`` for a mapping,
  ``getattr(value, name)`` for a record; a missing field is ``None``.

Allowed: constants; ``+ - * / // %`` (``%`` on numbers only: no string formatting;
``*`` and folded constants build at most MAX_REPEAT items); unary ``- + not``; ``and or``;
comparisons including ``in``/``not in``/``is``; ``a if c else b``;
subscripts and slices; attribute access to fields (names starting with ``_``
are refused); list, tuple, set and dict displays; calls of the functions in
:data:`FUNCTIONS` by name, positional arguments only. Everything else (lambda,
comprehensions, ``**``, f-strings, calls of anything else, ``__dunder__``
names) is an :class:`ExpressionError`, and so is an expression longer than
``source.MAX_LENGTH`` characters, of more than ``MAX_NODES`` nodes or nested deeper
than ``MAX_DEPTH``.
"""

from streamctl.pipeline.expressions.expression import Expression, compile_expression
from streamctl.pipeline.expressions.functions import FUNCTIONS, duration, epoch
from streamctl.pipeline.expressions.runtime import MAX_REPEAT, Fn, field_getter
from streamctl.pipeline.expressions.source import ExpressionError, shorten

__all__ = [
    "FUNCTIONS",
    "MAX_REPEAT",
    "Expression",
    "ExpressionError",
    "Fn",
    "compile_expression",
    "duration",
    "epoch",
    "field_getter",
    "shorten",
]
