"""Window types: Faust's HoppingWindow, TumblingWindow and SlidingWindow, plus SessionWindow.

A window range is a ``(start, end)`` tuple of seconds since the epoch. The ranges follow
Faust's ``faust/windows.py`` exactly: a hopping window of ``size`` and ``step`` puts time
``t`` in every range starting at a multiple of ``step`` in ``(t - size, t]``, and a range
ends 0.1 s before the next window of its size would start (Faust's
``WindowRange_from_start``: ``(start, start + size - 0.1)``; for windows of 0.1 s or
less the gap is a tenth of the size, so that the end stays after the start). So ``TumblingWindow(60)``
puts ``t = 61`` in ``(60.0, 119.9)``; ``HoppingWindow(10, 5)`` puts ``t = 6`` in
``(0.0, 9.9)`` and ``(5.0, 14.9)``. ``SlidingWindow(before, after, expires)`` gives the one
range ``(t - before, t + after)``.

Beyond Faust, every window takes a keyword-only ``grace`` (seconds, Kafka Streams'
``ofSizeAndGrace``): the allowed lateness after a window's end before it closes.
See :mod:`streamctl.tables.windows.clock` for when a window closes and expires.
"""

from __future__ import annotations

from datetime import timedelta
from math import floor, isfinite
from typing import Any

from streamctl.exceptions import ConfigurationError

#: ``(start, end)`` in seconds since the epoch
WindowRange = tuple[float, float]

#: Faust's gap between a range's end and the next range's start, in seconds
END_GAP = 0.1
#: the longest duration a window takes (100 years): longer ones end past what a date shows
MAX_SECONDS = 100 * 365 * 86400.0
#: the shortest window size or step (1 ms: record timestamps are milliseconds)
MIN_SECONDS = 0.001
#: the most windows one event may fall in (hopping ``size / step``)
MAX_WINDOWS_PER_EVENT = 10_000


def want_seconds(value: Any, what: str = "a duration") -> float:
    """``value`` (seconds as int/float, or a timedelta) as float seconds; else ConfigurationError."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        raise ConfigurationError(f"{what} must be seconds or a timedelta, not {value!r}")
    if not isfinite(seconds) or abs(seconds) > MAX_SECONDS:
        raise ConfigurationError(
            f"{what} must be a finite number of seconds of at most 100 years, not {value!r}"
        )
    return seconds


def _optional(value: Any, what: str) -> float | None:
    if value is None:
        return None
    seconds = want_seconds(value, what)
    if seconds < 0:
        raise ConfigurationError(f"{what} must be >= 0, not {value!r}")
    return seconds


def range_from_start(start: float, size: float) -> WindowRange:
    """Faust's ``WindowRange_from_start``: ``(start, start + size - 0.1)``; for windows of
    0.1 s or less the gap is a tenth of the size (Faust's 0.1 s would put the end at or
    before the start)."""
    if size.is_integer():
        return (start, start + size - END_GAP)
    return (start, round(start + size - (END_GAP if size > END_GAP else size / 10.0), 6))


class Window:
    """Base class of the window types (Faust's ``WindowT``)."""

    #: seconds a window's data is kept after it goes stale (None: forever)
    expires: float | None = None
    #: seconds of allowed lateness before a window closes (None: see ``clock``)
    grace: float | None = None
    #: ``"hopping"``, ``"tumbling"``, ``"sliding"`` or ``"session"``
    kind: str = ""
    #: True when a range holds its end (sliding): it closes only past it
    inclusive_end: bool = False

    def ranges(self, timestamp: float) -> list[WindowRange]:
        raise NotImplementedError

    def stale(self, timestamp: float, latest_timestamp: float) -> bool:
        raise NotImplementedError

    def current(self, timestamp: float) -> WindowRange:
        raise NotImplementedError

    def earliest(self, timestamp: float) -> WindowRange:
        raise NotImplementedError

    def delta(self, timestamp: float, d: Any) -> WindowRange:
        """The window ``d`` seconds (or timedelta) before ``timestamp`` (Faust)."""
        return self.current(timestamp - want_seconds(d))

    def close_time(self, window: WindowRange) -> float:
        """Stream time from which ``window`` holds no new events (before grace)."""
        return window[1]

    def shown_end(self, window: WindowRange) -> float:
        """The end shown for ``window`` (emitted records, ``table get``): exclusive
        ``start + size`` for hopping and tumbling windows, the range's end otherwise."""
        return self.close_time(window)

    def describe(self) -> dict[str, Any]:
        """The window as plain data (``{"kind": ..., "size": ...}``), for display."""
        out: dict[str, Any] = {"kind": self.kind}
        out.update({k: v for k, v in vars(self).items() if v is not None})
        return out

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.describe().items() if k != "kind")
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and vars(self) == vars(other)

    __hash__ = object.__hash__


class HoppingWindow(Window):
    """Fixed-size, overlapping windows: ``size`` seconds, a new one every ``step`` seconds."""

    kind = "hopping"

    def __init__(self, size: Any, step: Any, expires: Any = None, *, grace: Any = None) -> None:
        self.size = want_seconds(size, "window size")
        self.step = want_seconds(step, "window step")
        if self.size <= 0 or self.step <= 0:
            raise ConfigurationError("window size and step must be > 0")
        if self.size < MIN_SECONDS or self.step < MIN_SECONDS:
            raise ConfigurationError(
                "window size and step must be at least 1 ms (0.001 s): event times have "
                "millisecond precision"
            )
        if self.step > self.size:
            raise ConfigurationError(
                f"window step ({self.step:g}s) must not exceed its size ({self.size:g}s)"
            )
        if self.size / self.step > MAX_WINDOWS_PER_EVENT:
            raise ConfigurationError(
                f"window size {self.size:g}s over step {self.step:g}s puts each event in "
                f"{self.size / self.step:,.0f} windows; the most is {MAX_WINDOWS_PER_EVENT:,}"
            )
        # Faust: a falsy expires (None or 0) keeps windows forever
        self.expires = _optional(expires, "window expires") or None
        self.grace = _optional(grace, "window grace")

    def _start_initial_range(self, timestamp: float) -> float:
        if self.size.is_integer() and self.step.is_integer():
            closest_step = (timestamp // self.step) * self.step
            return closest_step - self.size + self.step
        return self._start(self._index(timestamp))

    # sizes or steps that are not whole seconds: window j starts at ``j * step - (size -
    # step)``, always computed from j alone (so two events in one window give it one key),
    # rounded to the microsecond; ``_index`` is Faust's closest step, exact at boundaries
    def _start(self, j: int) -> float:
        return round(j * self.step - (self.size - self.step), 6)

    def _index(self, timestamp: float) -> int:
        step = self.step
        k = floor(timestamp / step)
        if round((k + 1) * step, 6) <= timestamp:
            k += 1
        elif round(k * step, 6) > timestamp:
            k -= 1
        return k

    def ranges(self, timestamp: float) -> list[WindowRange]:
        """Every range ``timestamp`` falls in, oldest first (``size/step`` of them)."""
        step, size = self.step, self.size
        if size.is_integer() and step.is_integer():  # Faust's own int arithmetic
            first = self._start_initial_range(timestamp)
            return [
                range_from_start(float(s), size)
                for s in range(int(first), int(timestamp) + 1, int(step))
            ]
        out = []
        j = self._index(timestamp)
        start = self._start(j)
        while start <= timestamp:
            out.append(range_from_start(start, size))
            j += 1
            start = self._start(j)
        return out

    def current(self, timestamp: float) -> WindowRange:
        """The latest range holding ``timestamp`` (Faust)."""
        step = self.step
        if self.size.is_integer() and step.is_integer():
            start = self._start_initial_range(timestamp)
            m = floor((timestamp - start) / step)
            return range_from_start(start + step * m, self.size)
        return self.ranges(timestamp)[-1]

    def earliest(self, timestamp: float) -> WindowRange:
        """The oldest range holding ``timestamp`` (Faust)."""
        return range_from_start(self._start_initial_range(timestamp), self.size)

    def stale(self, timestamp: float, latest_timestamp: float) -> bool:
        """Faust: a range ending at ``timestamp`` is stale once it ends at or before the start
        of the range current ``expires`` seconds before ``latest_timestamp``."""
        if not self.expires:
            return False
        return timestamp <= self.current(latest_timestamp - self.expires)[0]

    def close_time(self, window: WindowRange) -> float:
        return window[0] + self.size


class TumblingWindow(HoppingWindow):
    """Fixed-size, non-overlapping, gap-less windows (a hopping window whose step is its size)."""

    kind = "tumbling"

    def __init__(self, size: Any, expires: Any = None, *, grace: Any = None) -> None:
        super().__init__(size, size, expires, grace=grace)

    def ranges(self, timestamp: float) -> list[WindowRange]:
        """The one range holding ``timestamp`` (Faust's hopping rule with step = size)."""
        size = self.size
        if size.is_integer():
            start = (timestamp // size) * size
            if start.is_integer():
                start = float(int(start))
            return [(start, start + size - END_GAP)]
        start = self._start(self._index(timestamp))
        return [(start, round(start + size - (END_GAP if size > END_GAP else size / 10.0), 6))]

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        del out["step"]
        return out


class SlidingWindow(Window):
    """One range per event: ``(t - before, t + after)`` (Faust's SlidingWindow)."""

    kind = "sliding"
    inclusive_end = True

    def __init__(self, before: Any, after: Any, expires: Any, *, grace: Any = None) -> None:
        self.before = want_seconds(before, "window before")
        self.after = want_seconds(after, "window after")
        if self.before < 0 or self.after < 0:
            raise ConfigurationError("window before and after must be >= 0")
        self.expires = _optional(expires, "window expires") or None
        self.grace = _optional(grace, "window grace")

    def ranges(self, timestamp: float) -> list[WindowRange]:
        return [(timestamp - self.before, timestamp + self.after)]

    def current(self, timestamp: float) -> WindowRange:
        return (timestamp - self.before, timestamp + self.after)

    def earliest(self, timestamp: float) -> WindowRange:
        return self.current(timestamp)

    def stale(self, timestamp: float, latest_timestamp: float) -> bool:
        """Faust: stale once ``timestamp <= latest_timestamp - expires``."""
        if not self.expires:
            return False
        return timestamp <= latest_timestamp - self.expires


class SessionWindow(Window):
    """Sessions per key (Kafka Streams' ``SessionWindows``; Faust has none): an event at
    ``t`` starts the session ``(t, t)``, or extends a session of its key whose range is
    within ``gap`` seconds of ``t``; an event within ``gap`` of two sessions merges them
    into one (their values added, Kafka's session merger for counts and sums). A
    session's range is ``(first event time, last event time)``, both inclusive. It closes
    once stream time is past ``end + gap + grace`` (Kafka's rule; without ``grace`` but
    with ``expires``: once stale), and is removed once ``end + gap <= stream time -
    expires``.
    """

    kind = "session"
    inclusive_end = True

    def __init__(self, gap: Any, expires: Any = None, *, grace: Any = None) -> None:
        self.gap = want_seconds(gap, "session gap")
        if self.gap < MIN_SECONDS:
            raise ConfigurationError(f"session gap must be at least 1 ms (0.001 s), not {gap!r}")
        self.expires = _optional(expires, "window expires") or None
        self.grace = _optional(grace, "window grace")

    def ranges(self, timestamp: float) -> list[WindowRange]:
        """The session an event alone starts: ``(t, t)`` (merging is the table's)."""
        return [(timestamp, timestamp)]

    def current(self, timestamp: float) -> WindowRange:
        return (timestamp, timestamp)

    def earliest(self, timestamp: float) -> WindowRange:
        return (timestamp, timestamp)

    def close_time(self, window: WindowRange) -> float:
        """A session can grow until stream time passes ``end + gap``."""
        return window[1] + self.gap

    def shown_end(self, window: WindowRange) -> float:
        return window[1]

    def stale(self, timestamp: float, latest_timestamp: float) -> bool:
        """Stale once ``timestamp`` (the session's end) ``<= latest_timestamp - expires``;
        ``expires`` counts from the session's close (``end + gap``) as Kafka's retention
        does, so a session is never stale before it can close."""
        if not self.expires:
            return False
        return timestamp + self.gap <= latest_timestamp - self.expires


WINDOW_KINDS: dict[str, type[Window]] = {
    "tumbling": TumblingWindow,
    "hopping": HoppingWindow,
    "sliding": SlidingWindow,
    "session": SessionWindow,
}
