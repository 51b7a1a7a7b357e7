"""GlobalTable: every worker holds every partition; written only through its changelog."""

from __future__ import annotations

from typing import Any

from streamctl.tables.table import Table


class GlobalTable(Table):
    """A read-only table replicated in full to every worker.

    Its contents come from its changelog topic (written by another app's table,
    or by ``streamctl send``). ``recover`` replays every partition; ``follow``
    and ``apply_changelog`` keep it current while the worker runs.
    """

    _read_only = True
    _is_global = True

    def __setitem__(self, key: Any, value: Any) -> None:
        raise NotImplementedError(self._how_to_fill())

    def __delitem__(self, key: Any) -> None:
        raise NotImplementedError(self._how_to_fill())

    def _how_to_fill(self) -> str:
        topic = self.changelog_topic.name
        return (
            f"GlobalTable {self.name!r} is read-only: fill it through its changelog "
            f"{topic!r} (in an agent: await table.changelog_topic.send(key=k, value=v); "
            "None deletes), or write a Table declared with changelog_topic="
            "table.changelog_topic; every worker's GlobalTable follows that changelog"
        )
