"""Session windows (Kafka Streams' SessionWindows; Faust has none): ranges, merging,
closing once on stream time, emit on close and update, tombstones, restarts (#11)."""

from __future__ import annotations

import asyncio
import operator
from datetime import timedelta

import pytest

from streamctl import SessionWindow
from streamctl.app import App
from streamctl.exceptions import ConfigurationError
from streamctl.testing import read_topic


def build(tmp_path, window, *, on="close", name="ss", **conf):
    app = App(name, broker="local://", datadir=tmp_path, topic_partitions=1, **conf)
    src = app.topic("clicks", key_type=str)
    out = app.topic("sessions", key_type=str)
    fired: list = []
    t = app.Table("clicks", default=int, on_window_close=lambda k, v: fired.append((k, v)))
    windows = t.using_window(window, key_index=True)
    t.emit_windows(out, on=on)
    seen: list = []

    @app.agent(src)
    async def count(stream):
        async for event in stream.events():
            windows[event.key] += 1
            seen.append((event.key, windows[event.key].current()))

    app.ensure_topics()
    return app, src, t, fired, seen


def send(src, clicks):
    async def go():
        for key, seconds in clicks:
            await src.send(key=key, value=1, timestamp=seconds)

    asyncio.run(go())


def emitted(app):
    return [
        (
            e.key,
            e.value["window"]["start"][11:19],
            e.value["window"]["end"][11:19],
            e.value["value"],
        )
        for e in read_topic(app, "sessions")
    ]


def test_sessions_grow_within_the_gap_and_close_once_past_it(tmp_path) -> None:
    app, src, t, fired, seen = build(tmp_path, SessionWindow(10), window_wall_clock=False)
    # a: 0, 5, 12 is one session (each within 10 s of the last); 30 starts a new one
    # b: 3 alone; 100 moves stream time past every session's end + gap
    send(src, [("a", 0), ("a", 5), ("b", 3), ("a", 12), ("a", 30), ("b", 100)])
    assert app.run(until_idle=True) == 0
    assert fired[:3] == [
        (("b", (3.0, 3.0)), 1),
        (("a", (0.0, 12.0)), 3),
        (("a", (30.0, 30.0)), 1),
    ]
    assert emitted(app)[:3] == [
        ("b", "00:00:03", "00:00:03", 1),
        ("a", "00:00:00", "00:00:12", 3),
        ("a", "00:00:30", "00:00:30", 1),
    ]
    # WindowSet.current() is the event's session, as it grows
    assert seen[:4] == [("a", 1), ("a", 2), ("b", 1), ("a", 3)]
    # extended sessions left no stale windows: only the latest range per session is stored
    stored = sorted(k for k, _v in t.items())
    assert ("a", (0.0, 5.0)) not in stored and ("a", (0.0, 12.0)) in stored


def test_an_event_bridging_two_sessions_merges_them_and_tombstones_the_old(tmp_path) -> None:
    app, src, t, fired, _seen = build(
        tmp_path, SessionWindow(10, grace=10), on="update", window_wall_clock=False
    )
    # 12 is within 10 s of 5 and of 20; (0, 5) is still open at stream time 20
    send(src, [("a", 0), ("a", 5), ("a", 20), ("a", 12)])
    assert app.run(until_idle=True) == 0
    assert dict(t.items()) == {("a", (0.0, 20.0)): 4}
    log = read_topic(app, "ss-clicks-changelog")
    tombstones = [tuple(e.key[1]) for e in log if e.value is None]
    assert (0.0, 5.0) in tombstones and (20.0, 20.0) in tombstones
    updates = emitted(app)
    assert updates[-3:] == [
        ("a", "00:00:00", "00:00:05", None),  # merged away (Kafka's session tombstones)
        ("a", "00:00:20", "00:00:20", None),
        ("a", "00:00:00", "00:00:20", 4),
    ]


def test_grace_lets_an_out_of_order_event_join_and_later_ones_are_late(tmp_path) -> None:
    app, src, t, fired, _seen = build(tmp_path, SessionWindow(10, grace=5), window_wall_clock=False)
    # session (0, 0) closes once stream time is past 0 + 10 + 5
    send(src, [("a", 0), ("b", 12), ("a", 9), ("b", 40), ("a", 2)])
    assert app.run(until_idle=True) == 0
    assert fired[0] == (("a", (0.0, 9.0)), 2)  # 9 joined at stream time 12: within grace
    assert t.late_events == 1 and t.late_dropped == 1  # 2 came after (0, 9) had closed
    assert ("a", (0.0, 9.0)) in dict(t.items())


def run(tmp_path, clicks, **conf):
    app, src, _t, fired, _seen = build(tmp_path, SessionWindow(10), window_wall_clock=False, **conf)
    send(src, clicks)
    assert app.run(until_idle=True) == 0
    return app, fired


def test_a_rebuilt_open_session_grows_and_closes_once(tmp_path) -> None:
    import shutil

    _app, fired = run(tmp_path, [("a", 0), ("a", 5), ("a", 40)], window_close_on_idle=False)
    assert [k for k, _v in fired] == [("a", (0.0, 5.0))]
    shutil.rmtree(tmp_path / "stores")  # rebuilt from the changelog: (40, 40) still open
    _app, fired = run(tmp_path, [("a", 45), ("a", 100)], window_close_on_idle=False)
    assert fired == [(("a", (40.0, 45.0)), 2)]  # the rebuilt session grew, then closed once
    app, fired = run(tmp_path, [], window_close_on_idle=False)
    assert fired == []
    assert [(w[1], w[3]) for w in emitted(app)] == [("00:00:00", 2), ("00:00:40", 2)]


def test_sessions_closed_at_the_end_of_input_stay_closed_across_a_wiped_store(tmp_path):
    import shutil

    _app, fired = run(tmp_path, [("a", 0), ("a", 5), ("a", 40)])
    assert fired == [(("a", (0.0, 5.0)), 2), (("a", (40.0, 40.0)), 1)]  # both: input ended
    shutil.rmtree(tmp_path / "stores")
    app, fired = run(tmp_path, [("a", 45), ("a", 100)])
    # 45 would grow (40, 40), closed by the end of the last input: late; 100 is new
    assert fired == [(("a", (100.0, 100.0)), 1)]
    assert app.tables["clicks"].late_dropped == 1
    app, fired = run(tmp_path, [])
    assert fired == []
    ends = [(w[1], w[2], w[3]) for w in emitted(app)]
    assert ends == [
        ("00:00:00", "00:00:05", 2),
        ("00:00:40", "00:00:40", 1),
        ("00:01:40", "00:01:40", 1),
    ]


def test_session_window_arguments() -> None:
    assert SessionWindow(timedelta(minutes=30)).gap == 1800.0
    with pytest.raises(ConfigurationError, match="session gap must be at least 1 ms"):
        SessionWindow(0)
    assert operator.eq(SessionWindow(10, 60), SessionWindow(10.0, 60))


def test_a_quiet_key_s_session_closes_on_the_wall_clock(tmp_path) -> None:
    import time

    from streamctl.worker.loop import Worker

    app, src, _t, fired, _seen = build(
        tmp_path, SessionWindow(0.3, grace=0.2), window_punctuate_interval=0.05
    )
    now = time.time()
    send(src, [("a", now), ("a", now + 0.1)])

    async def main() -> None:
        worker = Worker(app, install_signal_handlers=False)
        task = asyncio.create_task(worker.start())
        start = time.monotonic()
        while not fired and time.monotonic() - start < 10:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # and nothing fires twice
        worker.stop()
        await task

    asyncio.run(main())
    assert [(k[0], v) for k, v in fired] == [("a", 2)]
    assert [(w[0], w[3]) for w in emitted(app)] == [("a", 2)]
