"""The windowed side of Table: window keys, Faust's ``_windowed_*`` methods, closing.

A windowed table stores each window under the key ``(key, (start, end))`` (Faust's
layout), so its changelog, recovery and reads are a plain table's. ``table.tumbling(...)``,
``table.hopping(...)`` and ``table.using_window(...)`` turn a Table into a windowed one
in place and return its :class:`~streamctl.tables.windows.wrapper.WindowWrapper` (Faust's
``using_window``); ``app.Table(..., window=...)`` does the same at creation.

The worker's punctuation (:mod:`streamctl.worker.punctuate`) calls :meth:`punctuate`
after every batch and on the wall clock: windows whose time is up close (their
``on_window_close(key, value)`` callback runs, once, with Faust's ``(key, (start,
end))`` window key; emit-on-close records are queued), expired ones are deleted, and the
close mark goes into the same batch (see :mod:`streamctl.tables.windows.clock`).
"""

from __future__ import annotations

import logging
import operator
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

from streamctl.events import _current
from streamctl.exceptions import ConfigurationError
from streamctl.tables.base import Collection
from streamctl.tables.changelog import _ABSENT, WriteBuffer, remember
from streamctl.tables.exceptions import TableError
from streamctl.tables.windows.clock import CLOCK_KEY, NEVER, WindowClock, closed
from streamctl.tables.windows.closing import WindowClosing
from streamctl.tables.windows.emit import Emitter
from streamctl.tables.windows.eventtime import MAX_TIME, record_time
from streamctl.tables.windows.keys import window_key
from streamctl.tables.windows.ranges import END_GAP, Window, WindowRange, want_seconds
from streamctl.tables.windows.sessions import SessionTable
from streamctl.tables.windows.timing import WindowTime
from streamctl.wording import with_article

if TYPE_CHECKING:
    from streamctl.tables.windows.wrapper import WindowWrapper

log = logging.getLogger("streamctl.tables")

LATE_POLICIES = ("drop", "dead_letter")
#: window keys whose encoding is kept (per table) before the cache starts over
KEY_CACHE_MAX = 100_000
_MISSING: Any = object()


def _second(_current: Any, value: Any) -> Any:
    return value


class LateEvent(TableError):
    """An event whose every window is closed (older than stream time minus grace)."""


class WindowedTable(WindowClosing, WindowTime, SessionTable, Collection):
    """Mixed into Table (before the dict API): inert until a window is set."""

    _windows: WindowClock | None = None
    _window: Any
    #: ``on_window_close(key, value)``: called once per closed window (Faust)
    on_window_close: Callable[[Any, Any], Any] | None = None
    _emitter: Emitter | None = None
    _wkeys: dict[Any, bytes]
    #: tumbling windows: table key -> (start, (range, store key)) of its latest window
    _latest: dict[Any, tuple[float, tuple[WindowRange, bytes]]]
    _on_late: str = "drop"
    #: True for session windows (``sessions``)
    _session: bool = False
    #: a tumbling window's size when it is whole seconds (its ranges computed inline)
    _tumbling: float = 0.0
    #: events all of whose windows were closed (dropped or dead-lettered)
    late_events: int = 0
    #: of those, the ones dropped (``on_late="drop"``): the run summary's figure
    late_dropped: int = 0
    #: both counts as of the last commit (a discarded batch is replayed: counted again)
    _late_committed: tuple[int, int] = (0, 0)

    def __init__(
        self,
        app: Any,
        *,
        window: Window | None = None,
        on_window_close: Callable[[Any, Any], Any] | None = None,
        on_late: str = "drop",
        **kwargs: Any,
    ) -> None:
        super().__init__(app, **kwargs)
        if on_late not in LATE_POLICIES:
            raise ConfigurationError(
                f"on_late must be one of {', '.join(LATE_POLICIES)}, not {on_late!r}"
            )
        self._on_late = on_late
        self._wkeys = {}
        self._latest = {}
        self.on_window_close = on_window_close
        if window is not None:
            self.using_window(window)

    # -- turning windowing on (Faust) -------------------------------------------------------
    def using_window(self, window: Window, *, key_index: bool = False) -> WindowWrapper:
        """Window this table by ``window``; returns its WindowWrapper (Faust)."""
        from streamctl.tables.windows.wrapper import WindowWrapper

        if self._is_global:
            raise ConfigurationError(
                f"table {self.name!r}: only a Table can be windowed, not {with_article(type(self).__name__)}"
            )
        if not isinstance(window, Window):
            raise ConfigurationError(
                f"table {self.name!r}: window must be a TumblingWindow, HoppingWindow, "
                f"SlidingWindow or SessionWindow, not {window!r}"
            )
        if self._codec.key_serde.codec.name != "json":
            raise ConfigurationError(f"table {self.name!r}: a windowed table needs JSON keys")
        if self._windows is None or self._window != window:  # the same window: same state
            self._window = window
            wall = bool(getattr(self.app.conf, "window_wall_clock", True))
            self._windows = WindowClock(window, wall_clock=wall)
        self._session = window.kind == "session"
        size = getattr(window, "size", 0.0)
        self._tumbling = size if window.kind == "tumbling" and size.is_integer() else 0.0
        self._increment = self._windowed_increment
        self._write = self._writer()
        return WindowWrapper(self, key_index=key_index)

    def hopping(
        self, size: Any, step: Any, expires: Any = None, key_index: bool = False
    ) -> WindowWrapper:
        """Hopping windows of ``size`` seconds every ``step`` seconds (Faust)."""
        from streamctl.tables.windows.ranges import HoppingWindow

        return self.using_window(HoppingWindow(size, step, expires), key_index=key_index)

    def tumbling(self, size: Any, expires: Any = None, key_index: bool = False) -> WindowWrapper:
        """Tumbling windows of ``size`` seconds (Faust)."""
        from streamctl.tables.windows.ranges import TumblingWindow

        return self.using_window(TumblingWindow(size, expires), key_index=key_index)

    def session(self, gap: Any, expires: Any = None, key_index: bool = False) -> WindowWrapper:
        """Session windows closing after ``gap`` seconds without an event of their key
        (Kafka Streams' ``SessionWindows``; Faust has none): see ``sessions``."""
        from streamctl.tables.windows.ranges import SessionWindow

        return self.using_window(SessionWindow(gap, expires), key_index=key_index)

    def windowed(self, *, key_index: bool = True) -> WindowWrapper:
        """The WindowWrapper of an already windowed table (``app.Table(window=...)``)."""
        from streamctl.tables.windows.wrapper import WindowWrapper

        if self._windows is None:
            raise TableError(f"table {self.name!r} is not windowed")
        return WindowWrapper(self, key_index=key_index)

    def emit_windows(self, topic: Any, *, on: str = "close") -> None:
        """Send each window's value to ``topic`` (a Topic): its final value when it
        closes (``on="close"``, Kafka Streams' ``suppress(untilWindowCloses)``) or its
        value after every update (``on="update"``), as ``{key, window: {start, end},
        value}`` with ISO 8601 UTC times (``end`` exclusive). Each record's Kafka
        timestamp (milliseconds) is the latest time its window holds: ``end`` minus 1 ms
        for hopping and tumbling windows, a sliding or session window's end (the
        session's last event), not the wall clock of the emit. Kafka Streams stamps a
        window's result with the highest record timestamp in the window, which this is
        the bound of (streamctl keeps no timestamp per window); either way a consumer
        sees event time, and records of one window and key carry the same timestamp."""
        self._emitter = Emitter(topic, on, self._window)

    # -- Faust's windowed operations ---------------------------------------------------------
    def _window_ranges(self, timestamp: float) -> Iterator[WindowRange]:
        yield from self._window.ranges(timestamp)

    def _apply_window_op(
        self, op: Callable[[Any, Any], Any], key: Any, value: Any, timestamp: float
    ) -> None:
        """``t[key, w] = op(t[key, w], value)`` for every window ``w`` holding ``timestamp``."""
        self._window_update(key, timestamp, op, value, _MISSING)

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
                latest = latest_of.get(key)
                if latest is None or latest[0] != first:
                    rng = (first, first + gap)
                    latest = (first, (rng, window_key(codec, key, rng)))
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

    def _set_windowed(self, key: Any, value: Any, timestamp: float) -> None:
        self._window_update(key, timestamp, _second, value, value)

    def __setitem__(self, key: Any, value: Any) -> None:
        """Faust's ``table[key, (start, end)] = value`` (also ``WindowSet[range] =``): the
        window is open from now on like one the window operations wrote, so it closes
        and later operations add to its value."""
        super().__setitem__(key, value)  # type: ignore[misc]
        clock = self._windows
        if clock is None or self._session or type(key) is not tuple or len(key) != 2:
            return
        rng = key[1]
        if type(rng) is not tuple or len(rng) != 2:
            return
        rng = (float(rng[0]), float(rng[1]))
        encoded = self._codec.encode_key(key)
        partition = self._placement.event_partition()
        targets = [partition] if partition is not None else self._state.targets(encoded)
        for p in targets:
            if not clock.is_closed(p, rng):
                clock.track(p, encoded, rng, key[0])

    def _missing_value(self, wkey: Any) -> Any:
        return self.__missing__(wkey)  # type: ignore[attr-defined]

    def _del_windowed(self, key: Any, timestamp: float) -> None:
        ranges = [self._session_at(key, timestamp)] if self._session else None
        for rng in ranges or self._window.ranges(timestamp):
            self.pop((key, rng), None)  # type: ignore[attr-defined]

    def _current_range(self, key: Any, timestamp: float) -> WindowRange:
        """The window of ``key`` a read at ``timestamp`` picks: Faust's ``current``, or
        the session holding it."""
        if self._session:
            return self._session_at(key, timestamp)
        return self._window.current(timestamp)  # type: ignore[no-any-return]

    def _windowed_timestamp(self, key: Any, timestamp: float) -> Any:
        return self[key, self._current_range(key, timestamp)]  # type: ignore[index]

    def _windowed_now(self, key: Any) -> Any:
        now = self._relative_now()
        rng = self._session_at(key, now) if self._session else self._window.earliest(now)
        return self[key, rng]  # type: ignore[index]

    def _windowed_contains(self, key: Any, timestamp: float) -> bool:
        return (key, self._current_range(key, timestamp)) in self  # type: ignore[operator]

    def _windowed_delta(self, key: Any, d: Any, event: Any = None) -> Any:
        moment = self._relative_event(event) - want_seconds(d)
        return self[key, self._current_range(key, moment)]  # type: ignore[index]

    # -- the table's life cycle (Collection's, extended) ---------------------------------------
    def recover(self, transport: Any, partitions: Iterable[int] | None = None, **kw: Any) -> Any:
        result = super().recover(transport, partitions, **kw)
        if self._windows is not None:
            self._load_windows(result.keys() if partitions is None else partitions)
        return result

    def read_only(self, transport: Any, **kw: Any) -> Any:
        result = super().read_only(transport, **kw)
        if self._windows is not None:
            self._load_windows(self._state.local())
        return result

    def _load_windows(self, partitions: Iterable[int]) -> None:
        clock, state, codec = self._windows, self._state, self._codec
        assert clock is not None
        for p in partitions:
            windows = []
            keys = []
            for _, encoded, _ in self._raw_in(p):
                key, rng = codec.decode_key(encoded)
                rng = (float(rng[0]), float(rng[1]))
                windows.append((encoded, rng))
                keys.append((key, rng))
            clock.load(p, state.get_in(p, CLOCK_KEY), windows)
            if self._session:
                self._index_sessions(p, keys)

    def _raw_in(self, partition: int) -> Iterator[tuple[int, bytes, bytes]]:
        state = self._state
        overlay = state.buffer.overlay(partition)
        for key, value in state.store(partition).items():
            if key not in overlay and key != CLOCK_KEY:
                yield partition, key, value
        for key, maybe in overlay.items():
            if maybe is not None and key != CLOCK_KEY:
                yield partition, key, maybe

    def release(self, partitions: Iterable[int], *, keep_stores: bool = False) -> None:
        gone = list(partitions)
        super().release(gone, keep_stores=keep_stores)
        if self._windows is not None:
            self._windows.drop(gone)

    def commit(self, metadata: Any) -> None:
        super().commit(metadata)
        if self._windows is not None:
            self._windows.committed()
        self._late_committed = (self.late_events, self.late_dropped)

    def discard_batch(self) -> None:
        super().discard_batch()
        if self._windows is not None:  # the batch is replayed: back to what the stores say
            self._load_windows(self._windows.partitions())
        self.late_events, self.late_dropped = self._late_committed  # counted again

    def window_mark(self, partition: int) -> float | None:
        """The close mark of ``partition`` (stream time through which windows closed)."""
        clock = self._windows
        if clock is None:
            return None
        mark = clock.closed.get(partition, NEVER)
        return None if mark == NEVER else mark

    def window_closed(self, partition: int, rng: WindowRange) -> bool:
        """True if window ``rng`` of ``partition`` is closed (by its close mark)."""
        clock = self._windows
        assert clock is not None
        mark = clock.closed.get(partition, NEVER)
        return closed(self._window, rng, mark, clock.final.get(partition, NEVER))

    # -- iteration skips the close marks ------------------------------------------------------
    def _iter_raw(self) -> Iterator[tuple[int, bytes, bytes]]:
        for item in self._state.iter_raw():
            if item[1] != CLOCK_KEY:
                yield item

    def _iter_keys(self) -> Iterator[Any]:
        decode = self._codec.decode_key
        for _, key, _ in self._iter_raw():
            yield decode(key)

    def _iter_values(self) -> Iterator[Any]:
        load = self._codec.load_value
        for _, _, value in self._iter_raw():
            yield load(value)

    def _iter_items(self) -> Iterator[tuple[Any, Any]]:
        decode, load = self._codec.decode_key, self._codec.load_value
        for _, key, value in self._iter_raw():
            yield decode(key), load(value)

    def __len__(self) -> int:
        return sum(1 for _ in self._iter_raw())
