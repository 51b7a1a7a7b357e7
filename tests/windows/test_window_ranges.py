"""Window ranges, staleness and event time, pinned against Faust's rules (faust/windows.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from streamctl import HoppingWindow, SlidingWindow, TumblingWindow
from streamctl.exceptions import ConfigurationError
from streamctl.tables.windows.clock import closed
from streamctl.tables.windows.emit import iso, window_record
from streamctl.tables.windows.eventtime import EventTimeError, to_seconds


def test_tumbling_ranges_end_a_tenth_of_a_second_before_the_next_window() -> None:
    w = TumblingWindow(60)
    assert w.ranges(0) == [(0.0, 59.9)]
    assert w.ranges(61) == [(60.0, 119.9)]
    assert w.ranges(119.95) == [(60.0, 119.9)]  # Faust's gap: the range ends at 119.9
    assert w.current(61) == w.earliest(61) == (60.0, 119.9)
    assert w.delta(61, 60) == (0.0, 59.9)
    assert w.delta(61, timedelta(minutes=2)) == (-60.0, -0.1)
    assert TumblingWindow(timedelta(minutes=1)).ranges(61) == [(60.0, 119.9)]


def test_hopping_ranges_are_every_window_holding_the_time() -> None:
    w = HoppingWindow(10, 5)
    assert w.ranges(6) == [(0.0, 9.9), (5.0, 14.9)]
    assert w.ranges(12) == [(5.0, 14.9), (10.0, 19.9)]
    assert w.ranges(4) == [(-5.0, 4.9), (0.0, 9.9)]
    assert w.current(6) == (5.0, 14.9)  # the latest
    assert w.earliest(6) == (0.0, 9.9)
    big = HoppingWindow(57, 23)
    assert big.ranges(456) == [(403.0, 459.9), (426.0, 482.9), (449.0, 505.9)]
    assert big.current(456) == big.ranges(456)[-1]
    assert HoppingWindow(1.5, 0.5).ranges(2.2) == [(1.0, 2.4), (1.5, 2.9), (2.0, 3.4)]


def test_sliding_range_is_before_and_after_the_event() -> None:
    w = SlidingWindow(5, 3, 60)
    assert w.ranges(10) == [(5.0, 13.0)]
    assert w.current(10) == w.earliest(10) == (5.0, 13.0)
    assert w.delta(10, 4) == (1.0, 9.0)
    assert w.stale(40, 100) and not w.stale(41, 100)


def test_staleness_follows_faust() -> None:
    w = TumblingWindow(60, expires=60)
    # stale once the range ends at or before the start of the range current at latest-expires
    assert w.stale(59.9, 120) and not w.stale(59.9, 119.9)
    assert not TumblingWindow(60).stale(0, 10**9)  # no expires: kept forever


def test_when_windows_close() -> None:
    rng = (0.0, 59.9)
    assert not closed(TumblingWindow(60), rng, 59.99) and closed(TumblingWindow(60), rng, 60)
    graced = TumblingWindow(60, grace=10)
    assert not closed(graced, rng, 69.9) and closed(graced, rng, 70)
    faustlike = TumblingWindow(60, expires=120)  # no grace: closes when Faust expires it
    assert not closed(faustlike, rng, 179.9) and closed(faustlike, rng, 180)
    sliding = SlidingWindow(5, 3, 60, grace=1)
    assert not closed(sliding, (5.0, 13.0), 14.0) and closed(sliding, (5.0, 13.0), 14.01)


@pytest.mark.parametrize(
    "args, message",
    [
        ((0,), "must be > 0"),
        (("1m",), "must be seconds or a timedelta"),
        ((60, -1), "expires must be >= 0"),
    ],
)
def test_bad_windows_are_refused(args, message) -> None:
    with pytest.raises(ConfigurationError, match=message):
        TumblingWindow(*args)
    with pytest.raises(ConfigurationError, match="must not exceed its size"):
        HoppingWindow(10, 20)


def test_event_time_from_fields() -> None:
    moment = datetime(2026, 12, 7, 10, 0, tzinfo=timezone.utc)
    epoch = moment.timestamp()
    assert to_seconds(moment) == epoch
    assert to_seconds(moment.replace(tzinfo=None)) == epoch  # naive: UTC
    assert to_seconds("2026-12-07T10:00:00Z") == epoch
    assert to_seconds("2026-12-07T11:00:00+01:00") == epoch
    assert to_seconds(epoch) == epoch
    assert to_seconds(int(epoch * 1000)) == epoch  # milliseconds, detected
    assert to_seconds(5000, "ms") == 5.0 and to_seconds(5000) == 5000.0
    assert to_seconds("1765101600") == 1765101600.0
    with pytest.raises(EventTimeError, match="neither an ISO 8601"):
        to_seconds("yesterday")
    with pytest.raises(EventTimeError, match="a NoneType, not a time"):
        to_seconds(None)


def test_emitted_record_has_iso_times_and_an_exclusive_end() -> None:
    start = datetime(2026, 12, 7, 10, 1, tzinfo=timezone.utc).timestamp()
    rec = window_record(TumblingWindow(60), "home", (start, start + 59.9), 3)
    assert rec == {
        "key": "home",
        "window": {"start": "2026-12-07T10:01:00Z", "end": "2026-12-07T10:02:00Z"},
        "value": 3,
    }
    assert iso(1.5) == "1970-01-01T00:00:01.500Z"
