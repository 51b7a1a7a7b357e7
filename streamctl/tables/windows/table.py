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
close mark goes into the same batch (see :mod:`streamctl.tables.windows.clock`). Writes
(the ``count``/``sum`` steps, Faust's in-place operators) are
:mod:`streamctl.tables.windows.writing`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from streamctl.exceptions import ConfigurationError
from streamctl.tables.base import Collection
from streamctl.tables.exceptions import TableError
from streamctl.tables.windows.clock import CLOCK_KEY, NEVER, WindowClock, closed
from streamctl.tables.windows.closing import WindowClosing
from streamctl.tables.windows.emit import Emitter
from streamctl.tables.windows.ranges import Window, WindowRange, want_seconds
from streamctl.tables.windows.sessions import SessionTable
from streamctl.tables.windows.timing import WindowTime
from streamctl.tables.windows.writing import _MISSING, WindowWriting
from streamctl.wording import with_article

if TYPE_CHECKING:
    from streamctl.tables.windows.wrapper import WindowWrapper

LATE_POLICIES = ("drop", "dead_letter")


def _second(_current: Any, value: Any) -> Any:
    return value


class WindowedTable(WindowWriting, WindowClosing, WindowTime, SessionTable, Collection):
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
        if self._emitter is not None:
            self._emitter.discard()

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
