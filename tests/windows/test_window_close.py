"""Closing windows: once per window on stream time, expiry, late events, the wall clock."""

from __future__ import annotations

import asyncio
import time

from streamctl import TumblingWindow
from streamctl.app import App
from streamctl.testing import read_topic
from streamctl.worker.loop import Worker


def build(tmp_path, *, window, partitions=1, on_late="drop", **conf):
    app = App("wc", broker="local://", datadir=tmp_path, topic_partitions=partitions, **conf)
    src = app.topic("clicks", key_type=str)
    out = app.topic("closed", key_type=str)
    fired: list = []
    t = app.Table(
        "clicks", default=int, on_window_close=lambda k, v: fired.append((k, v)), on_late=on_late
    )
    t.using_window(window)
    t.emit_windows(out, on="close")
    wrapper = t.windowed()

    @app.agent(src, dead_letter="clicks-late" if on_late == "dead_letter" else None)
    async def agent(stream):
        async for event in stream.events():
            wrapper[event.key] += 1

    app.ensure_topics()
    return app, src, t, fired


def send(src, key, seconds, partition=None):
    asyncio.run(src.send(key=key, value=1, timestamp=seconds, partition=partition))


def test_a_busy_key_closes_each_window_once_and_emits_its_final_value(tmp_path) -> None:
    app, src, t, fired = build(tmp_path, window=TumblingWindow(60))
    for s in range(0, 300, 7):  # a click every 7 s for 5 minutes
        send(src, "home", s)
    assert app.run(until_idle=True) == 0
    # each minute's count, fired when stream time passed its end; the last minute (open
    # when the input ended) closed as until_idle finished: the end of bounded input
    per_minute = [sum(1 for s in range(0, 300, 7) if m * 60 <= s < m * 60 + 60) for m in range(5)]
    assert fired == [(("home", (m * 60.0, m * 60 + 59.9)), per_minute[m]) for m in range(5)]
    emitted = [
        (e.key, e.value["window"]["start"], e.value["value"]) for e in read_topic(app, "closed")
    ]
    assert emitted == [("home", f"1970-01-01T00:0{m}:00Z", per_minute[m]) for m in range(5)]
    assert t.window_mark(0) == 300.0  # stream time moved to the last window's end, no further


def test_without_close_on_idle_the_last_window_stays_open(tmp_path) -> None:
    app, src, t, fired = build(tmp_path, window=TumblingWindow(60), window_close_on_idle=False)
    for s in (10, 70):
        send(src, "k", s)
    assert app.run(until_idle=True) == 0
    assert fired == [(("k", (0.0, 59.9)), 1)]
    assert t.window_mark(0) == 70.0


def test_expired_windows_are_removed_and_tombstoned(tmp_path) -> None:
    app, src, t, fired = build(
        tmp_path, window=TumblingWindow(60, expires=60, grace=5), window_close_on_idle=False
    )
    for s in (10, 70, 125, 190):
        send(src, "k", s)
    assert app.run(until_idle=True) == 0
    # closed at end + grace; removed once Faust's stale rule says so (kept a minute)
    assert [k[1][0] for k, _ in fired] == [0.0, 60.0, 120.0]
    assert sorted(r[1][0] for r in t) == [120.0, 180.0]
    log = read_topic(app, "wc-clicks-changelog")
    tombstones = [e.key for e in log if e.value is None]
    assert tombstones == [["k", [0.0, 59.9]], ["k", [60.0, 119.9]]]


def test_without_grace_a_window_closes_when_faust_expires_it(tmp_path) -> None:
    app, src, t, fired = build(
        tmp_path, window=TumblingWindow(60, expires=120), window_close_on_idle=False
    )
    for s in (10, 70, 179, 180):
        send(src, "k", s)
    assert app.run(until_idle=True) == 0
    assert fired == [(("k", (0.0, 59.9)), 1)]
    assert ("k", (0.0, 59.9)) not in t


def test_late_events_are_dead_lettered_with_a_reason(tmp_path) -> None:
    app, src, t, fired = build(tmp_path, window=TumblingWindow(60, grace=10), on_late="dead_letter")
    for s in (10, 75, 65, 50):  # 65 is within grace; 50 comes after the close at 70
        send(src, "k", s)
    assert app.run(until_idle=True) == 0
    assert t[("k", (60.0, 119.9))] == 2 and t[("k", (0.0, 59.9))] == 1
    parked = read_topic(app, "clicks-late")
    assert len(parked) == 1 and parked[0].message.timestamp_ms == 50_000
    reason = dict(parked[0].message.headers)
    assert any(b"late event" in v for v in reason.values())
    assert t.late_events == 1


def test_a_quiet_partition_closes_its_window_on_the_wall_clock(tmp_path) -> None:
    app, src, t, fired = build(
        tmp_path,
        window=TumblingWindow(1, grace=0.3),
        partitions=2,
        window_punctuate_interval=0.05,
    )
    now = time.time()
    send(src, "busy", now, partition=0)
    send(src, "quiet", now, partition=1)

    async def main() -> float:
        worker = Worker(app, install_signal_handlers=False)
        task = asyncio.create_task(worker.start())
        start = time.monotonic()
        while len(fired) < 2 and time.monotonic() - start < 10:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # and nothing fires twice
        worker.stop()
        await task
        return time.monotonic() - start

    took = asyncio.run(main())
    assert sorted(k[0] for k, _v in fired) == ["busy", "quiet"], fired
    assert took < 5
    emitted = sorted(e.key for e in read_topic(app, "closed"))
    assert emitted == ["busy", "quiet"]


def test_the_wall_clock_moves_a_quiet_partitions_stream_time_at_full_speed() -> None:
    # every punctuation tick moves stream time on by the wall time since the last tick;
    # a tick used to take the previous tick's own move for an event's and skip its
    # interval, so stream time followed the wall clock at half speed
    from streamctl.tables.windows.clock import WindowClock

    clock = WindowClock(TumblingWindow(5))
    clock.observe(0, 100.0)
    seen = []
    for now in range(5):
        clock.advance_wall(float(now))
        seen.append(clock.stream_time[0])
    assert seen == [100.0, 101.0, 102.0, 103.0, 104.0]
    clock.observe(0, 110.0)  # an event moves it: the quiet time starts again from there
    clock.advance_wall(5.0)
    clock.advance_wall(6.5)
    assert clock.stream_time[0] == 111.5
