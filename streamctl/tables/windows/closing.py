"""Closing a windowed table's windows: the worker's punctuation and the end of input.

Mixed into :class:`~streamctl.tables.windows.table.WindowedTable`. The worker
(:mod:`streamctl.worker.punctuate`) calls :meth:`WindowClosing.punctuate` after every
batch and on the wall clock, and :meth:`WindowClosing.close_all` once ``until_idle``
drained the input; see :mod:`streamctl.tables.windows.clock` for when a window closes.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from streamctl.tables.exceptions import TableError
from streamctl.tables.windows.clock import CLOCK_KEY
from streamctl.tables.windows.emit import iso


class WindowClosing:
    """Closes due windows: callbacks, emitted records, expiry and the close mark."""

    _windows: Any
    _state: Any
    _codec: Any
    _emitter: Any
    _session: bool
    name: str
    on_window_close: Callable[[Any, Any], Any] | None
    _unindex_session: Callable[..., None]

    # -- punctuation (the worker) ------------------------------------------------------------
    async def punctuate(self, *, wall: bool) -> int:
        """Close what is due in every local partition (the wall clock first, if ``wall``);
        run ``on_window_close`` and queue emits; delete expired windows; store the close
        mark in the batch. Returns the number of windows closed."""
        clock = self._windows
        if clock is None:
            return 0
        if wall:
            clock.advance_wall()
        try:
            return await self._close_due(clock)
        finally:  # what closed is queued even when a callback failed, as it was sent
            if self._emitter is not None:
                self._emitter.flush()

    async def _close_due(self, clock: Any) -> int:
        state, codec = self._state, self._codec
        numbers = codec.numbers
        emitter = self._emitter
        emit = emitter.send if emitter is not None and emitter.on == "close" else None
        callback = self.on_window_close
        count = 0
        for partition in clock.partitions():
            closing, expired = clock.due(partition)
            values = state.get_many_in(partition, [c[0] for c in closing]) if closing else {}
            for encoded, rng, table_key in closing:
                data = values.get(encoded)
                if data is None:
                    continue
                # a number the batch wrote is kept decoded in the buffer (changelog.py)
                value = data if data.__class__ in numbers else codec.load_value(data)
                count += 1
                if table_key is None:
                    key = codec.decode_key(encoded)
                    table_key = key[0]
                else:
                    key = None
                if emit is not None:
                    emit(table_key, rng, value)
                if callback is not None:
                    if key is None:
                        key = (table_key, rng)
                    try:
                        result = callback(key, value)
                        if inspect.isawaitable(result):
                            await result
                    except Exception as exc:  # the app's code: one line, not a traceback
                        raise TableError(
                            f"table {self.name!r}: on_window_close failed for key "
                            f"{key[0]!r}, window from {iso(rng[0])}: "
                            f"{type(exc).__name__}: {exc}"
                        ) from exc
            for encoded in expired:
                if state.get_in(partition, encoded) is not None:
                    state.buffer.put(partition, encoded, None)
                if self._session:
                    key, rng = codec.decode_key(encoded)
                    self._unindex_session(partition, key, (float(rng[0]), float(rng[1])))
            mark = clock.mark(partition)
            if mark is not None:
                state.buffer.put(partition, CLOCK_KEY, mark)
        return count

    async def close_all(self) -> int:
        """The end of bounded input (``until_idle``): close every open window holding
        data, as Flink's final watermark does (``WindowClock.finish``), then as
        :meth:`punctuate`. Returns the number of windows closed."""
        clock = self._windows
        if clock is None:
            return 0
        state = self._state
        for partition in clock.partitions():
            live = clock.open_ranges(partition)
            clock.finish(partition, [r for k, r in live if state.get_in(partition, k) is not None])
        return await self.punctuate(wall=False)
