"""Expression text: parse it as one Python expression and place AST nodes back at offsets in it."""

from __future__ import annotations

import ast
import re
import sys

#: the longest expression text, in characters (a pipeline's formulas are short; this keeps
#: a 2 MB literal from costing a gigabyte to parse)
MAX_LENGTH = 10_000
#: the most AST nodes, and the deepest nesting, an expression may have
MAX_NODES = 500
MAX_DEPTH = 50


class ExpressionError(ValueError):
    """An expression is not valid; ``offset`` is the 0-based position in its text."""

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def shorten(text: str, width: int = 60) -> str:
    """``text``, cut to ``width`` characters with an ellipsis (for quoting it in a message)."""
    return text if len(text) <= width else text[: width - 1] + "…"


def parse(text: str) -> ast.expr:
    """The AST of ``text`` (never run); ExpressionError with an offset when it is not Python."""
    if not text.strip():
        raise ExpressionError("empty expression")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"expression is {len(text):,} characters long; the most is {MAX_LENGTH:,}"
        )
    try:
        tree = ast.parse(safe_navigation(text.strip()), mode="eval")
    except SyntaxError as exc:
        where = _where(text, exc)
        if "Exceeds the limit" in (exc.msg or ""):  # Python places it at column 0
            digits = re.search(rf"\d{{{sys.get_int_max_str_digits() + 1},}}", text)
            where = digits.start() if digits else where
        raise ExpressionError(f"invalid expression: {_reason(exc)}", where) from None
    except (RecursionError, MemoryError):
        raise ExpressionError(f"expression nested deeper than {MAX_DEPTH} levels") from None
    _check_size(text, tree.body)
    return tree.body


def safe_navigation(text: str) -> str:
    """``text`` as Python reads it, with the same offsets: ``a?.b`` read as ``a .b`` (field
    access is already None-safe, so ``?.`` only says so), and a line break outside quoted
    text read as a space, so an expression may span lines (a YAML ``|`` block) the way a
    Redpanda Connect Bloblang mapping may; a ``#`` comment ends at its line's end. Quoted
    text is left alone (a line break inside ``'...'`` stays an error)."""
    if "?." not in text and "\n" not in text:
        return text
    out = list(text)
    quote = ""
    i = 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif text.startswith(quote, i):
                i += len(quote) - 1
                quote = ""
        elif c in "'\"":
            quote = c * 3 if text.startswith(c * 3, i) else c
            i += len(quote) - 1
        elif c == "#":
            while i < len(text) and text[i] != "\n":
                out[i] = " "
                i += 1
            continue
        elif c == "\n" or c == "?" and text[i + 1 : i + 2] == ".":
            out[i] = " "
        i += 1
    return "".join(out)


#: AST nodes with no position of their own (Load, Add, And, ...): not counted
_UNPLACED = (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop)


def _check_size(text: str, root: ast.expr) -> None:
    """ExpressionError at the first node past MAX_NODES or nested deeper than MAX_DEPTH
    (walked without recursion, so a 1,000-term sum is refused, not a RecursionError)."""
    count = 0
    stack: list[tuple[ast.AST, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if depth > MAX_DEPTH:
            raise Source(text).fail(
                node, f"expression nested deeper than {MAX_DEPTH} levels; split it"
            )
        if count > MAX_NODES:
            raise Source(text).fail(
                node, f"expression has more than {MAX_NODES} parts; split it into steps"
            )
        children = [c for c in ast.iter_child_nodes(node) if not isinstance(c, _UNPLACED)]
        stack.extend((child, depth + 1) for child in reversed(children))  # text order


def _where(text: str, exc: SyntaxError) -> int:
    """The 0-based offset in ``text`` of a SyntaxError's line and (1-based) column."""
    lead = len(text) - len(text.lstrip())
    lines = text.strip().split("\n")
    line = min(max(exc.lineno or 1, 1), len(lines))
    return lead + sum(len(s) + 1 for s in lines[: line - 1]) + max((exc.offset or 1) - 1, 0)


def _reason(exc: SyntaxError) -> str:
    """A SyntaxError's message, in our words where Python's gives Python advice."""
    if "Exceeds the limit" in (exc.msg or ""):
        return f"integer literal longer than {sys.get_int_max_str_digits()} digits"
    return re.sub(r" \(detected at line \d+\)$", "", exc.msg)  # lines of the expression


class Source:
    """Where the nodes parsed from ``text`` start in it (``text`` may have leading space)."""

    def __init__(self, text: str) -> None:
        self.text = safe_navigation(text.strip())
        self.lead = len(text) - len(text.lstrip())
        self.lines = self.text.split("\n")

    def offset(self, node: ast.AST) -> int:
        line = getattr(node, "lineno", 1)
        col = getattr(node, "col_offset", 0)  # in UTF-8 bytes: 'ü' counts 2
        if 0 < line <= len(self.lines):
            col = len(self.lines[line - 1].encode()[:col].decode(errors="ignore"))
        return self.lead + sum(len(s) + 1 for s in self.lines[: line - 1]) + col

    def attribute_offset(self, node: ast.Attribute) -> int | None:
        """Where ``node.attr`` starts in the text (None when the node spans lines)."""
        end = getattr(node, "end_col_offset", None)
        if end is None or getattr(node, "end_lineno", None) != node.lineno:
            return None
        line = self.lines[node.lineno - 1].encode() if node.lineno <= len(self.lines) else b""
        start = end - len(node.attr.encode())
        return self.offset(node) + len(line[node.col_offset : start].decode(errors="ignore"))

    def fail(self, node: ast.AST, message: str) -> ExpressionError:
        """An ExpressionError pointing at ``node``."""
        return ExpressionError(message, self.offset(node))
