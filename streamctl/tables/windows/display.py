"""A mapping drawn as a terminal table (Faust's ``dict_as_ansitable``), with rich."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def dict_as_ansitable(
    d: Mapping[Any, Any],
    *,
    key: str = "Key",
    value: str = "Value",
    sort: bool = False,
    title: str | None = None,
    width: int = 100,
) -> str:
    """``d`` as a two-column table (``key``, ``value`` headers) in ANSI text."""
    from io import StringIO

    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    table.add_column(key)
    table.add_column(value)
    items = sorted(d.items(), key=lambda kv: str(kv[0])) if sort else list(d.items())
    for k, v in items:
        table.add_row(str(k), str(v))
    out = StringIO()
    Console(file=out, force_terminal=True, width=width).print(table)
    return out.getvalue()
