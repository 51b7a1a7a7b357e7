"""Table: a partitioned, changelogged dict with an optional default factory."""

from __future__ import annotations

from typing import Any

from streamctl.tables.mapping import TableMapping
from streamctl.tables.windows.table import WindowedTable


class Table(WindowedTable, TableMapping):
    """A dict whose every change is written to a changelog topic.

    With ``default=int``, ``table[k]`` for a missing key returns ``int()``
    without inserting it (Faust's ``__missing__``), so ``table[k] += 1`` works
    and ``k in table`` stays False until the write. ``get(k)`` returns its own
    ``default`` argument, like ``dict.get``.

    ``window=`` (or ``.tumbling()``/``.hopping()``/``.using_window()``) makes it a
    windowed table (:mod:`streamctl.tables.windows`).
    """

    def __missing__(self, key: Any) -> Any:
        if self._default is not None:
            return self._default()
        raise KeyError(key)
