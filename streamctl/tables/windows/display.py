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
    from rich.text import Text

    # Text, not str: keys and values are data, never rich markup ("[/x]") or emoji (":x:")
    table = Table(title=None if title is None else Text(title))
    table.add_column(Text(key))
    table.add_column(Text(value))
    items = sorted(d.items(), key=lambda kv: str(kv[0])) if sort else list(d.items())
    for k, v in items:
        table.add_row(Text(str(k)), Text(str(v)))
    out = StringIO()
    Console(file=out, force_terminal=True, width=width, emoji=False, markup=False).print(table)
    return out.getvalue()
