"""The windowed count's write and emit paths: counts kept decoded in the batch roll back
exactly with a failed event, emitted records are the exact JSON of ``{key, window,
value}`` stamped with the window's latest time, and late counts roll back too (#11)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streamctl import HoppingWindow, SessionWindow, SlidingWindow, TumblingWindow
from streamctl.app import App
from streamctl.pipeline import load_pipeline
from streamctl.tables.naming import changelog_topic_name
from streamctl.tables.windows.emit import Emitter, record_timestamp, window_record
from streamctl.testing import read_table, read_topic

PIPELINE = """
app: wpath
topics: {clicks: {partitions: 1, key_type: str}, closed: {partitions: 1, key_type: str}}
tables:
  per_minute: {default: int, window: {tumbling: 1m}, emit: {on: close, to: closed}}
agents:
  count:
    from: clicks
    dead_letter: clicks-bad
    steps:
      - count: per_minute
      - map: {r: "upper(n)"}
"""

GOOD, BAD = {"n": "ok"}, {"n": 3}  # upper(3) fails after the count: the event is parked


def run(tmp_path: Path, events: list[tuple[str, dict, float]]) -> App:
    path = tmp_path / "p.yaml"
    path.write_text(PIPELINE)
    app = load_pipeline(path, datadir=tmp_path / "data").app
    app.ensure_topics()
    for key, value, seconds in events:  # one batch: the worker polls them together
        app.producer.send(
            "clicks", key.encode(), json.dumps(value).encode(), timestamp=round(seconds * 1000)
        )
    app.producer.flush()
    assert app.run(until_idle=True) == 0
    return app


def test_a_failed_event_after_updates_to_its_window_leaves_window_and_changelog_as_before(
    tmp_path: Path,
) -> None:
    app = run(
        tmp_path,
        [
            ("k", GOOD, 10),
            ("k", GOOD, 20),
            ("k", BAD, 25),  # counted into (0, 59.9) as its fourth write, then rolled back
            ("k", GOOD, 30),
            ("café", GOOD, 40),
            ("k", BAD, 45),
            ("k", GOOD, 70),
        ],
    )
    assert len(read_topic(app, "clicks-bad")) == 2
    rows = read_table(app, "per_minute")
    assert rows[("k", (0.0, 59.9))] == 3 and rows[("k", (60.0, 119.9))] == 1
    changelog = read_topic(app, changelog_topic_name("wpath", "per_minute"))
    first_minute = [e.value for e in changelog if e.key == ["k", [0.0, 59.9]]]
    assert first_minute == [3]  # one record, never the failed events' 4 or 5
    closed = [(e.key, e.value) for e in read_topic(app, "closed")]
    assert closed == [
        ("café", {"key": "café", "window": window(0), "value": 1}),
        ("k", {"key": "k", "window": window(0), "value": 3}),
        ("k", {"key": "k", "window": window(60), "value": 1}),
    ]


def window(start: int) -> dict[str, str]:
    return {
        "start": f"1970-01-01T00:0{start // 60}:00Z",
        "end": f"1970-01-01T00:0{start // 60 + 1}:00Z",
    }


def test_emitted_records_are_exact_json_stamped_with_the_windows_latest_time(
    tmp_path: Path,
) -> None:
    app = run(tmp_path, [("k", GOOD, 10), ("k", GOOD, 61.5), ("ü", GOOD, 130)])
    records = [e[2] for e in read_topic(app, "closed")]  # the broker's messages: raw bytes
    expected = [
        ("k", 0, 1),
        ("k", 60, 1),
        ("ü", 120, 1),
    ]
    assert [(m.key, m.value, m.timestamp_ms) for m in records] == [
        (
            key.encode(),
            json.dumps(
                {"key": key, "window": window(start), "value": value},
                separators=(",", ":"),
                ensure_ascii=False,
            ).encode(),
            (start + 60) * 1000 - 1,  # the window's end is exclusive: its latest ms
        )
        for key, start, value in expected
    ]


def test_late_counts_of_an_event_that_then_fails_roll_back_with_it(tmp_path: Path) -> None:
    app = run(
        tmp_path,
        [
            ("k", GOOD, 10),
            ("k", GOOD, 70),  # stream time 70: the first minute is closed
            ("k", BAD, 15),  # late (counted, dropped), then parked: not counted
            ("k", GOOD, 16),  # late: counted and dropped
        ],
    )
    table = app.tables["per_minute"]
    assert (table.late_events, table.late_dropped) == (1, 1)
    assert len(read_topic(app, "clicks-bad")) == 1


@pytest.mark.parametrize(
    ("win", "rng", "ms"),
    [
        (TumblingWindow(60), (120.0, 179.9), 179_999),
        (HoppingWindow(60, 30), (30.0, 89.9), 89_999),
        (TumblingWindow(0.05), (1.0, 1.045), 1_049),
        (SlidingWindow(5, 5, expires=60), (5.0, 15.0), 15_000),
        (SessionWindow(30), (10.0, 25.5), 25_500),
    ],
)
def test_the_record_timestamp_is_the_latest_time_the_window_holds(win, rng, ms) -> None:
    assert record_timestamp(win, rng) == ms


@pytest.mark.parametrize(
    "value", [0, -7, 2**70, 1.5, 1e-07, 1e16, "text", 'é\u2028"\\', None, True, [1, "a"], {"x": 1}]
)
@pytest.mark.parametrize("key", ["k", "ü", 12, ("a", 1)])
def test_an_emitted_record_is_what_encoding_its_dict_gives(tmp_path: Path, key, value) -> None:
    app = App("wemit", broker="local://", datadir=tmp_path, topic_partitions=1)
    topic = app.topic("out", key_serializer="json")
    app.ensure_topics()
    win = TumblingWindow(60)
    emitter = Emitter(topic, "close", win)
    for _ in range(2):  # the second time from the cached key and window
        emitter.send(key, (60.0, 119.9), value)
    emitter.flush()
    app.producer.flush()
    expected = (
        topic.key_serde.dumps(key),
        topic.value_serde.dumps(window_record(win, key, (60.0, 119.9), value)),
    )
    assert [(e[2].key, e[2].value) for e in read_topic(app, "out")] == [expected, expected]


@pytest.mark.parametrize("window", [TumblingWindow(60), HoppingWindow(60, 30)])
def test_keys_equal_in_python_but_not_as_table_keys_keep_their_own_windows(
    tmp_path: Path, window
) -> None:
    # review-11s: the key caches of the write path took True (and 1.0) for 1, as dict
    # keys do: windows[True] += 1 after windows[1] += 1 wrote into 1's window
    import asyncio

    app = App("wkeys", broker="local://", datadir=tmp_path, topic_partitions=1)
    src = app.topic("clicks", key_type=str)
    t = app.Table("clicks", default=int)
    windows = t.using_window(window)
    keys = [1, True, 1.0, 1, "1"]

    @app.agent(src)
    async def count(stream):
        async for event in stream.events():
            windows[keys[event.value["i"]]] += 1

    app.ensure_topics()
    for i in range(len(keys)):
        asyncio.run(src.send(key="k", value={"i": i}, timestamp=40 + i))
    assert app.run(until_idle=True) == 0
    stored = {k: v for _p, k, v in t._state.iter_raw() if k.startswith(b"[")}
    firsts = {k.split(b",")[0]: v for k, v in stored.items() if b"[0.0," in k}
    assert firsts == {b"[1": b"2", b"[true": b"1", b"[1.0": b"1", b'["1"': b"1"}


@pytest.mark.parametrize("on", ["close", "update"])
def test_a_key_the_emit_topic_cannot_encode_is_one_line_not_a_traceback(tmp_path, on) -> None:
    # review-11s: an int key emitted to a topic of raw (text) keys stopped the worker
    # with a TypeError traceback from the punctuation
    import asyncio

    from streamctl.exceptions import StreamctlError

    app = App("wraw" + on, broker="local://", datadir=tmp_path, topic_partitions=1)
    src = app.topic("clicks", key_type=str)
    out = app.topic("closed")  # raw keys: text or bytes only
    t = app.Table("clicks", default=int)
    windows = t.using_window(TumblingWindow(60))
    t.emit_windows(out, on=on)

    @app.agent(src)
    async def count(stream):
        async for _event in stream.events():
            windows[7] += 1

    app.ensure_topics()
    asyncio.run(src.send(key="k", value={}, timestamp=5))
    with pytest.raises(StreamctlError, match=r"cannot emit the window of key 7 \(int\) to topic"):
        app.run(until_idle=True)
