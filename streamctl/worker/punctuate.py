"""Punctuation: windowed tables close their windows after each batch and on the wall clock.

After every batch the worker calls :meth:`Punctuator.after_batch` (windows closed by the
stream time the batch moved), and on each turn of its loop :meth:`Punctuator.tick`,
which every ``window_punctuate_interval`` seconds also lets quiet partitions' stream
time follow the wall clock (setting ``window_wall_clock``, default on), so a window
whose partition receives nothing more still closes. Both run before the commit that
carries their outputs: ``on_window_close`` callbacks and emitted records are queued in
the batch together with the close mark (``streamctl.tables.windows.clock``), so each
window's close is committed once. With ``until_idle``, once every source partition is
drained, :meth:`Punctuator.close_all` closes the windows still open (the end of bounded
input), so their final values are emitted before the worker exits.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any


class Punctuator:
    """The windowed tables among ``tables`` and when the wall clock last moved them."""

    def __init__(self, tables: Iterable[Any], conf: Any) -> None:
        self.tables = [t for t in tables if getattr(t, "_windows", None) is not None]
        self.wall_clock = bool(getattr(conf, "window_wall_clock", True))
        self.interval = float(getattr(conf, "window_punctuate_interval", 1.0))
        self.close_on_idle = bool(getattr(conf, "window_close_on_idle", True))
        self._last = time.monotonic()
        #: windows closed so far
        self.closed = 0

    async def after_batch(self) -> int:
        """Close what the batch's stream time made due (and the wall clock's, if due)."""
        if not self.tables:
            return 0
        return await self._run(wall=self._wall_due())

    async def tick(self) -> int:
        """Every ``window_punctuate_interval`` seconds: move quiet partitions with the
        wall clock and close what is due."""
        if not self.tables or not self._wall_due():
            return 0
        return await self._run(wall=True)

    async def close_all(self) -> int:
        """The input is exhausted (``until_idle``): close every open window, as Flink's
        final watermark does at the end of bounded input (``WindowedTable.close_all``);
        not with the setting ``window_close_on_idle: false``."""
        if not self.close_on_idle:
            return 0
        n = 0
        for table in self.tables:
            n += await table.close_all()
        self.closed += n
        return n

    def _wall_due(self) -> bool:
        if not self.wall_clock:
            return False
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            return True
        return False

    async def _run(self, *, wall: bool) -> int:
        n = 0
        for table in self.tables:
            n += await table.punctuate(wall=wall)
        self.closed += n
        return n
