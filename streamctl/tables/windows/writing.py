"""The write path of a windowed table: one function per table, run once per event.

Mixed into :class:`~streamctl.tables.windows.table.WindowedTable`. The ``count`` and
``sum`` steps (``_incrementer``), Faust's in-place operators on a WindowSet and item
assignment all write through :attr:`WindowWriting._write`, which
:meth:`WindowWriting._writer` builds when the window is set: stream time moves (in the
undo log, so a failed event takes its move back), the event's windows get ``op(value,
operand)``, and an event whose every window is closed is late (:meth:`_late`).
"""

from __future__ import annotations

import logging
import operator
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any

from streamctl.events import _current
from streamctl.tables.changelog import _ABSENT, WriteBuffer, remember
from streamctl.tables.exceptions import TableError
from streamctl.tables.windows.clock import NEVER
from streamctl.tables.windows.eventtime import MAX_TIME, record_time
from streamctl.tables.windows.keys import window_key
from streamctl.tables.windows.ranges import END_GAP, WindowRange

log = logging.getLogger("streamctl.tables")

#: window keys whose encoding is kept (per table) before the cache starts over
KEY_CACHE_MAX = 100_000
_MISSING: Any = object()


class LateEvent(TableError):
    """An event whose every window is closed (older than stream time minus grace)."""


class WindowWriting:
    """Windowed writes; needs the table's window state (set by ``using_window``)."""

    _windows: Any
    _window: Any
    _session: bool
    _tumbling: float
    _latest: dict[Any, tuple[float, tuple[WindowRange, bytes]]]
    _wkeys: dict[Any, bytes]
    _state: Any
    _codec: Any
    _placement: Any
    _emitter: Any
    _time_of: Callable[[Any], float] | None
    _on_late: str
    late_events: int
    late_dropped: int
    name: str
    _session_update: Callable[..., bool]

    def _windowed_increment(self, key: Any, amount: Any, start: Any) -> None:
        """The ``count``/``add`` steps' ``_increment`` on a windowed table: ``amount`` is
        added to every window of the current event, from ``start``."""
        self._write(start, operator.add, key, amount)

    def _incrementer(self, start: Any) -> Callable[[Any, Any], None]:
        """``fn(key, amount)``: :meth:`_windowed_increment` from ``start``, once per event
        for the ``count`` and ``sum`` steps (``TableMapping._incrementer`` on a table
        not windowed)."""
        if self._windows is None:
            return super()._incrementer(start)  # type: ignore[misc,no-any-return]
        return partial(self._write, start, operator.add)

    def _window_update(
        self, key: Any, timestamp: float, op: Callable[[Any, Any], Any], operand: Any, start: Any
    ) -> None:
        """``op(window value, operand)`` into every open window of ``timestamp`` (from
        ``start``, or the table's default when it is ``_MISSING``); a late event if none."""
        self._write(start, op, key, operand, timestamp)

    #: ``write(start, op, key, operand, timestamp=None)``: :meth:`_window_update` (at the
    #: event's time when ``timestamp`` is None), built by :meth:`_writer`
    _write: Callable[..., None]

    def _writer(self) -> Callable[..., None]:
        """The function behind :attr:`_write`, with what it reads per event bound once
        (``using_window`` builds it again for a new window). It writes in the partition
        of the event being processed (TableError outside a stream), at ``timestamp`` or
        the event's time: its table's time field, else its record timestamp.

        A finite int or float result is kept decoded in the write buffer (as
        ``TableMapping._incrementer`` keeps a plain table's), so a window counted many
        times in a batch is encoded once, when the batch is sent; the undo log records
        every write (and the move of stream time), so a failed event rolls back exactly."""
        clock = self._windows
        assert clock is not None
        stream_time, in_order_open = clock.stream_time, clock.in_order_open
        tracked_in, track, is_closed = clock.tracked, clock.track, clock.is_closed
        session, size, window = self._session, self._tumbling, self._window
        latest_of, targets_of = self._latest, self._window_targets
        state, codec = self._state, self._codec
        buffer, get_in, numbers = state.buffer, state.get_in, codec.numbers
        load_value, dump_value = codec.load_value, codec.dump_value
        get_event, buffer_class, gap = _current.get, WriteBuffer, size - END_GAP

        placement = self._placement
        partitions = placement.partitions

        def write(
            start: Any,
            op: Callable[[Any, Any], Any],
            key: Any,
            operand: Any,
            timestamp: float | None = None,
        ) -> None:
            event = get_event()
            if event is None or placement.use_partitioner:
                raise TableError(f"table {self.name!r}: a windowed write outside a stream")
            message = event[2]  # the broker's Message: no copy (event.message makes one)
            partition = message[1]
            if partition >= partitions:
                placement.event_partition()  # raises: worded once, there
            if timestamp is None:
                time_of = self._time_of
                if time_of is not None:
                    timestamp = time_of(event)
                else:
                    timestamp = message[5] / 1000.0
                    if not 0.0 <= timestamp < MAX_TIME:
                        timestamp = record_time(message[5])  # raises EventTimeError
            undo = buffer_class.undo
            was = stream_time.get(partition, _ABSENT)
            before = NEVER if was is _ABSENT else was
            if timestamp > before:
                # a failed event is rolled back with its effect on the window clock: a bad
                # event's far-future time must not make the good ones after it late
                if undo is not None:  # changelog.remember, inline
                    undo += (stream_time, partition, was, event)
                stream_time[partition] = timestamp
            if session:
                if not self._session_update(
                    partition, key, timestamp, op, operand, start, _MISSING
                ):
                    self._late(key, timestamp)
                return
            # an event that moves stream time on is in no closed window (see clock.closed)
            check = timestamp <= before or not in_order_open
            targets: Iterable[tuple[WindowRange, bytes]]
            if size:  # TumblingWindow.ranges of a whole-seconds size, inline
                first = (timestamp // size) * size
                # only text and int keys are cached: 1, 1.0 and True are one dict key but
                # three table keys (as the codec's key caches, one per type)
                cls = key.__class__
                cacheable = cls is str or cls is int
                latest = latest_of.get(key) if cacheable else None
                if latest is None or latest[0] != first:
                    rng = (first, first + gap)
                    latest = (first, (rng, window_key(codec, key, rng)))
                    if cacheable:
                        if len(latest_of) >= KEY_CACHE_MAX:
                            latest_of.clear()
                        latest_of[key] = latest
                targets = (latest[1],)
            else:
                targets = targets_of(key, window.ranges(timestamp))
            pending = buffer.pending
            writes = pending.get(partition)
            if writes is None:
                writes = pending[partition] = {}
            emitter = self._emitter
            written = False
            for rng, encoded in targets:
                if check and is_closed(partition, rng):
                    continue
                old = writes.get(encoded, _ABSENT)
                current: Any
                if old.__class__ in numbers:
                    # kept decoded (below) by a write to this open window: it is tracked
                    current = old
                else:
                    tracked = tracked_in(partition)
                    if old is _ABSENT:
                        # an open window not tracked holds nothing yet: no store read
                        data = get_in(partition, encoded) if encoded in tracked else None
                    else:
                        data = old
                    if data is not None:
                        current = load_value(data)
                    elif start is not _MISSING:
                        current = start
                    else:
                        current = self.__missing__((key, rng))  # type: ignore[attr-defined]
                    if encoded not in tracked:
                        track(partition, encoded, rng, key)
                new = op(current, operand)
                stored = new
                if new.__class__ not in numbers or new - new != 0:  # not a finite number
                    stored = dump_value(new)  # raises for what does not encode
                if undo is not None:
                    undo += (writes, encoded, old, event)  # as WriteBuffer.put records it
                writes[encoded] = stored
                written = True
                if emitter is not None and emitter.on == "update":
                    emitter.send(key, rng, new)
            if not written:
                self._late(key, timestamp)

        return write

    def _window_targets(
        self, key: Any, ranges: Iterable[WindowRange]
    ) -> Iterator[tuple[WindowRange, bytes]]:
        """Each of ``ranges`` with the store key of ``key``'s window there (cached)."""
        cache = self._wkeys
        cls = key.__class__
        if cls is not str and cls is not int:  # 1, 1.0 and True: one dict key (see _writer)
            for rng in ranges:
                yield rng, window_key(self._codec, key, rng)
            return
        for rng in ranges:
            wkey = (key, rng)
            encoded = cache.get(wkey)
            if encoded is None:
                if len(cache) >= KEY_CACHE_MAX:
                    cache.clear()
                encoded = cache[wkey] = window_key(self._codec, key, rng)
            yield rng, encoded

    def _late(self, key: Any, timestamp: float) -> None:
        """Count a late event and drop it, or raise LateEvent (``on_late="dead_letter"``:
        the worker parks it, so its count stays). A dropped event's counts are in the
        undo log: if its agent fails on it later, they go back with its writes."""
        why = (
            f"late event for table {self.name!r}: key {key!r} at event time {timestamp:.3f}s; "
            "every window it falls in is closed (stream time minus grace has passed them)"
        )
        if self._on_late == "dead_letter":
            self.late_events += 1
            raise LateEvent(why)
        counts = vars(self)
        remember(counts, "late_events")
        remember(counts, "late_dropped")
        self.late_events += 1
        self.late_dropped += 1
        log.debug("%s; dropped", why)
