"""Which tables an agent's function uses: found in its code, before anything runs.

Co-partitioning is a property of a table and the topics whose events use it (#9):
a step pipeline knows them; a Python agent says so only in its code. This reads the
code (never runs it): the names it loads from its module's globals, its closure's
cells, and ``app.tables["name"]`` subscripts (a string constant equal to a table's
name next to an attribute named ``tables``), through nested functions and
comprehensions, and one level into module-level helper functions it calls. A table
reached some other way is not found here; the worker still refuses an event from a
partition the table does not have, at its first use.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator, Mapping
from typing import Any

#: how many helper functions deep the search follows calls
DEPTH = 2


def tables_used_by(fun: Callable[..., Any], tables: Mapping[str, Any]) -> list[Any]:
    """The tables of ``tables`` (name -> table) that ``fun``'s code names, in name order."""
    found: dict[str, Any] = {}
    by_id = {id(t): t for t in tables.values()}
    _visit(fun, tables, by_id, found, DEPTH, set())
    return [found[name] for name in sorted(found)]


def _codes(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _codes(const)


def _visit(
    fun: Any,
    tables: Mapping[str, Any],
    by_id: dict[int, Any],
    found: dict[str, Any],
    depth: int,
    seen: set[int],
) -> None:
    fun = getattr(fun, "__wrapped__", fun)
    code = getattr(fun, "__code__", None)
    if code is None or id(code) in seen:
        return
    seen.add(id(code))
    namespace = getattr(fun, "__globals__", {})
    cells = _cells(fun)
    helpers: list[Any] = []
    for c in _codes(code):
        values = [namespace[n] for n in c.co_names if n in namespace]
        for value in [*values, *cells]:
            table = by_id.get(id(value))
            if table is not None:
                found[table.name] = table
            elif isinstance(value, types.FunctionType):
                helpers.append(value)
        if "tables" in c.co_names:
            for const in c.co_consts:
                if isinstance(const, str) and const in tables:
                    found[const] = tables[const]
    if depth > 0:
        for helper in helpers:
            _visit(helper, tables, by_id, found, depth - 1, seen)


def _cells(fun: Any) -> list[Any]:
    """The values of ``fun``'s closure cells (an empty cell, not bound yet, is skipped)."""
    out = []
    for cell in getattr(fun, "__closure__", None) or ():
        try:
            out.append(cell.cell_contents)
        except ValueError:
            continue
    return out
