"""``table.as_ansitable()``: a table's items as a bordered text table (Faust's helper)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any


def ansitable(
    items: Iterable[tuple[Any, Any]],
    *,
    key: str = "key",
    value: str = "value",
    title: str = "",
    sort: bool = False,
    sortkey: Callable[[tuple[Any, Any]], Any] | None = None,
) -> str:
    """``items`` as a two-column ASCII table with ``title`` in its top border, as Faust's
    ``Table.as_ansitable(key=, value=, title=, sort=, sortkey=)`` (terminaltables'
    layout); ``sort`` orders rows by ``sortkey`` (default: the key)."""
    rows = [(str(k), str(v)) for k, v in items]
    if sort:
        pairs = [(k, v) for k, v in items] if sortkey is not None else None
        if pairs is not None:
            rows = [(str(k), str(v)) for k, v in sorted(pairs, key=sortkey)]
        else:
            rows.sort()
    widths = [
        max([len(key), *(len(r[0]) for r in rows)]),
        max([len(value), *(len(r[1]) for r in rows)]),
    ]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    top = rule
    if title and len(title) <= len(rule) - 2:
        top = "+" + title + rule[1 + len(title) :]

    def line(cells: tuple[str, str]) -> str:
        return "|" + "|".join(f" {c.ljust(w)} " for c, w in zip(cells, widths)) + "|"

    return "\n".join([top, line((key, value)), rule, *(line(r) for r in rows), rule])
