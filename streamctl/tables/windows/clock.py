"""When windows close and expire: per partition stream time, open windows, the close mark.

Stream time of a table partition is the highest event time seen in it (Faust's
``_partition_latest_timestamp``), in seconds. With the wall clock on (setting
``window_wall_clock``, default on), a partition's stream time also advances with the wall
clock while it receives nothing, from its last event (or from when it was loaded), so
the windows of a partition that goes quiet still close.

A window closes once stream time reaches its close time plus ``grace``:

- with ``grace`` set on the window: ``close_time(range) + grace <= stream time``, where
  ``close_time`` is ``start + size`` for hopping and tumbling windows and the range's end
  for sliding and session windows (Kafka Streams' rule);
- without ``grace`` but with ``expires``: when Faust expires it (``window.stale(end,
  stream time)``), so ``on_window_close`` fires exactly when Faust fires it;
- with neither: at ``close_time(range) <= stream time`` (no grace).

A window is removed from the store (a tombstone in the changelog) once it is closed and
``window.stale(end, stream time)``; without ``expires`` it is kept. An event all of whose
windows are closed is late.

At the end of bounded input (``until_idle``, once every source partition is drained) the
windows still open close too (Flink's final watermark): ``final[p]`` records the last
one's close time, and any window whose close time is at or before it is closed, while
stream time moves to it (no further: windows after it stay open, nothing expires early).

The close mark (``closed[p]``: the stream time through which windows were closed, with
``final[p]``) is
stored under :data:`CLOCK_KEY` in the partition's store and changelog, written in the
same batch (so the same commit or transaction) as the outputs the closes produced: after
a restart or on another worker, windows at or before the mark are known closed and never
fire again, and those after it are open.
"""

from __future__ import annotations

import heapq
import json
import math
import time
from collections.abc import Iterable
from typing import Any

from streamctl.tables.windows.ranges import Window, WindowRange

#: the store and changelog key of a partition's close mark: a JSON object, which no window
#: key (a JSON array ``[key, [start, end]]``) can be, so changelog readers decode it too
CLOCK_KEY = b'{"streamctl":"window-clock"}'

NEVER = -math.inf


def closed(window: Window, rng: WindowRange, stream_time: float, final: float = NEVER) -> bool:
    """True once ``rng`` of ``window`` is closed at ``stream_time`` (rules above; a range
    whose end is inclusive, a sliding one's, closes only once stream time is past it), or
    by the end of bounded input: ``close_time(rng) <= final``."""
    if final != NEVER and window.close_time(rng) <= final:
        return True
    grace = window.grace
    if grace is None and window.expires:
        return window.stale(rng[1], stream_time)
    close = window.close_time(rng) + (grace or 0.0)
    return close < stream_time if window.inclusive_end else close <= stream_time


def in_order_open(window: Window) -> bool:
    """True when an event at the partition's stream time can never be in a closed window
    (so the per-window check is skipped for events in order): every rule but Faust's
    staleness with an ``expires`` shorter than the window."""
    if window.grace is None and window.expires:
        return window.expires >= getattr(window, "size", 0.0) + 1.0
    return True


class WindowClock:
    """Stream time, open windows and close marks of one windowed table's partitions.

    Keys are the table's encoded window keys (bytes); times are seconds.
    """

    def __init__(self, window: Window, *, wall_clock: bool = True) -> None:
        self.window = window
        self.wall_clock = wall_clock
        self.in_order_open = in_order_open(window)
        #: stream time per partition (highest event time, advanced by the wall clock)
        self.stream_time: dict[int, float] = {}
        #: the close mark per partition, and what the stores hold of it
        self.closed: dict[int, float] = {}
        self.persisted: dict[int, float] = {}
        #: per partition: windows whose close time is at or before it were closed by the
        #: end of bounded input (``finish``), and what the stores hold of it
        self.final: dict[int, float] = {}
        self.persisted_final: dict[int, float] = {}
        #: (monotonic seconds, stream time) at each partition's last event or load
        self.last_seen: dict[int, tuple[float, float]] = {}
        #: per partition: heap of (end, key, range) of open windows, and their encoded
        #: keys mapped to the table key (the close reads it without decoding)
        self._open: dict[int, list[tuple[float, bytes, WindowRange]]] = {}
        self._open_keys: dict[int, dict[bytes, Any]] = {}
        #: per partition: heap of (end, key, range) of closed windows not yet expired
        self._kept: dict[int, list[tuple[float, bytes, WindowRange]]] = {}
        #: session windows: per partition, encoded key -> its sessions (``sessions``)
        self.sessions: dict[int, dict[bytes, tuple[WindowRange, ...]]] = {}

    # -- per event ------------------------------------------------------------------------
    def observe(self, partition: int, timestamp: float) -> float:
        """An event at ``timestamp`` in ``partition``: returns the partition's stream time
        (the write path does the same inline)."""
        st = self.stream_time.get(partition, NEVER)
        if timestamp > st:
            st = self.stream_time[partition] = timestamp
        return st

    def is_closed(self, partition: int, rng: WindowRange) -> bool:
        return closed(
            self.window,
            rng,
            self.stream_time.get(partition, NEVER),
            self.final.get(partition, NEVER),
        )

    def track(self, partition: int, key: bytes, rng: WindowRange, table_key: Any = None) -> None:
        """``key`` (window ``rng`` of ``table_key``) was written: it is open until it
        closes. Every open window holding data in the store is tracked (``load``), so a
        window not tracked and not closed holds nothing yet (the write path reads no
        store for it)."""
        keys = self._open_keys.get(partition)
        if keys is None:
            keys = self._open_keys[partition] = {}
            self._open[partition] = []
        if key not in keys:
            keys[key] = table_key
            heapq.heappush(self._open[partition], (rng[1], key, rng))

    def tracked(self, partition: int) -> dict[bytes, Any]:
        """The open windows of ``partition`` (encoded key -> table key)."""
        keys = self._open_keys.get(partition)
        if keys is None:
            keys = self._open_keys[partition] = {}
            self._open[partition] = []
        return keys

    def forget(self, partition: int, key: bytes) -> None:
        """``key`` was deleted: it no longer needs closing (stays in the heap, skipped)."""
        keys = self._open_keys.get(partition)
        if keys is not None:
            keys.pop(key, None)

    # -- punctuation ----------------------------------------------------------------------
    def advance_wall(self, now: float | None = None) -> None:
        """Move each quiet partition's stream time on by the wall time since its last event."""
        if not self.wall_clock:
            return
        now = time.monotonic() if now is None else now
        for partition, (seen, st) in self.last_seen.items():
            current = self.stream_time.get(partition, NEVER)
            if current > st:  # events moved it since: the quiet time starts now
                self.last_seen[partition] = (now, current)
                continue
            moved = st + (now - seen)
            if moved > current:
                # the wall clock moved it: the next tick counts on from here (else the
                # tick after would take the move for an event's and lose its interval)
                self.stream_time[partition] = moved
                self.last_seen[partition] = (now, moved)
        for partition in self.stream_time.keys() - self.last_seen.keys():
            self.last_seen[partition] = (now, self.stream_time[partition])

    def due(self, partition: int) -> tuple[list[tuple[bytes, WindowRange, Any]], list[bytes]]:
        """Windows of ``partition`` to close now, oldest first, as (encoded key, range,
        table key or None), and keys to remove (expired); moves the close mark to the
        stream time. Closed windows that do not expire yet are kept for queries until
        they do."""
        st = self.stream_time.get(partition, NEVER)
        final = self.final.get(partition, NEVER)
        window = self.window
        closing: list[tuple[bytes, WindowRange, Any]] = []
        heap = self._open.get(partition)
        keys = self._open_keys.get(partition, {})
        kept = self._kept.setdefault(partition, [])
        shared: WindowRange | None = None  # the last range found closed (keys share them)
        while heap:
            rng = heap[0][2]
            if rng != shared:
                if not closed(window, rng, st, final):
                    break
                shared = rng
            end, key, rng = heapq.heappop(heap)
            if key not in keys:
                continue  # deleted meanwhile
            closing.append((key, rng, keys.pop(key)))
            if window.expires:
                heapq.heappush(kept, (end, key, rng))
        expired: list[bytes] = []
        while kept and window.stale(kept[0][0], st):
            expired.append(heapq.heappop(kept)[1])
        if st > self.closed.get(partition, NEVER):
            self.closed[partition] = st
        return closing, expired

    # -- the close mark -------------------------------------------------------------------
    def mark(self, partition: int) -> bytes | None:
        """The close mark to store for ``partition`` if it moved since it was stored."""
        mark = self.closed.get(partition)
        final = self.final.get(partition, NEVER)
        if mark is None or mark == NEVER:
            return None
        if mark == self.persisted.get(partition) and final == self.persisted_final.get(
            partition, NEVER
        ):
            return None
        value: dict[str, float] = {"closed": mark}
        if final != NEVER:
            value["final"] = final
        return json.dumps(value).encode()

    def committed(self) -> None:
        """The marks written are in the stores now."""
        self.persisted.update(self.closed)
        self.persisted_final.update(self.final)

    def finish(self, partition: int, ranges: Iterable[WindowRange]) -> None:
        """The end of bounded input: the windows ``ranges`` (the open ones holding data)
        close now; stream time moves to the last one's close time (so an event in any
        of them later is late, and windows after them stay open)."""
        ends = [self.window.close_time(rng) for rng in ranges]
        if not ends:
            return
        final = max(ends)
        if final > self.final.get(partition, NEVER):
            self.final[partition] = final
        if final > self.stream_time.get(partition, NEVER):
            self.stream_time[partition] = final

    def load(
        self, partition: int, mark: bytes | None, windows: Iterable[tuple[bytes, WindowRange]]
    ) -> None:
        """(Re)build ``partition`` from its store: its close mark and stored windows."""
        stored = {} if mark is None else json.loads(mark)
        value = float(stored.get("closed", NEVER))
        final = float(stored.get("final", NEVER))
        self.closed[partition] = self.persisted[partition] = value
        self.final[partition] = self.persisted_final[partition] = final
        self.stream_time[partition] = value
        self.last_seen[partition] = (time.monotonic(), value)
        self._open[partition], self._open_keys[partition], self._kept[partition] = [], {}, []
        for key, rng in windows:
            if not closed(self.window, rng, value, final):
                self.track(partition, key, rng)
            elif self.window.expires:
                heapq.heappush(self._kept[partition], (rng[1], key, rng))

    def drop(self, partitions: Iterable[int]) -> None:
        """Forget ``partitions`` (revoked)."""
        for p in partitions:
            for d in (
                self.stream_time,
                self.closed,
                self.persisted,
                self.final,
                self.persisted_final,
                self.last_seen,
                self._open,
                self._open_keys,
                self._kept,
                self.sessions,
            ):
                d.pop(p, None)

    def open_ranges(self, partition: int) -> list[tuple[bytes, WindowRange]]:
        """The open windows of ``partition``: (encoded key, range)."""
        keys = self._open_keys.get(partition, {})
        return [(key, rng) for _end, key, rng in self._open.get(partition, ()) if key in keys]

    def partitions(self) -> list[int]:
        return sorted(set(self.last_seen) | set(self._open))

    def open_windows(self, partition: int) -> int:
        return len(self._open_keys.get(partition, ()))
