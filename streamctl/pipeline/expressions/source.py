"""Expression text: parse it as one Python expression and place AST nodes back at offsets in it."""

from __future__ import annotations

import ast


class ExpressionError(ValueError):
    """An expression is not valid; ``offset`` is the 0-based position in its text."""

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def parse(text: str) -> ast.expr:
    """The AST of ``text`` (never run); ExpressionError with an offset when it is not Python."""
    if not text.strip():
        raise ExpressionError("empty expression")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        lead = len(text) - len(text.lstrip())
        raise ExpressionError(
            f"invalid expression: {exc.msg}", lead + (exc.offset or 1) - 1
        ) from None
    return tree.body


class Source:
    """Where the nodes parsed from ``text`` start in it (``text`` may have leading space)."""

    def __init__(self, text: str) -> None:
        self.text = text.strip()
        self.lead = len(text) - len(text.lstrip())
        self.lines = self.text.split("\n")

    def offset(self, node: ast.AST) -> int:
        line = getattr(node, "lineno", 1)
        col = getattr(node, "col_offset", 0)
        return self.lead + sum(len(s) + 1 for s in self.lines[: line - 1]) + col

    def fail(self, node: ast.AST, message: str) -> ExpressionError:
        """An ExpressionError pointing at ``node``."""
        return ExpressionError(message, self.offset(node))
