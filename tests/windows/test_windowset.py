"""WindowSet and WindowWrapper through a running app: Faust's methods, relativity, views."""

from __future__ import annotations

import asyncio

import pytest

from streamctl import Record, TumblingWindow
from streamctl.app import App
from streamctl.tables.windows.wrapper import WindowSet


class View(Record):
    page: str
    at: float


def run(tmp_path, events, body, *, key_index=True, **table):
    """Send ``events`` ((page, record timestamp s, field at)) and run ``body(wrapper, event,
    seen)`` per event in an agent; returns (seen, table)."""
    app = App("ws", broker="local://", datadir=tmp_path)
    src = app.topic("views", value_type=View)
    t = app.Table("views", default=int, **table)
    wrapper = t.tumbling(60, key_index=key_index)
    seen: list = []

    @app.agent(src)
    async def agent(stream):
        async for event in stream.events():
            body(wrapper, event, seen)

    app.ensure_topics()
    for page, ts, at in events:
        asyncio.run(src.send(key=page, value=View(page=page, at=at), timestamp=int(ts * 1000)))
    assert app.run(until_idle=True) == 0
    return seen, t, wrapper, app


def test_windowset_methods_pick_windows_like_faust(tmp_path) -> None:
    def body(w, event, seen):
        page = event.value.page
        w[page] += 1
        ws = w[page]
        assert isinstance(ws, WindowSet)
        seen.append((page, ws.current(), ws.value(), ws.delta(60), ws.now(), page in w))

    events = [("a", 10, 0), ("a", 20, 0), ("b", 30, 0), ("a", 70, 0), ("b", 65, 0), ("b", 50, 0)]
    seen, t, _w, _app = run(tmp_path, events, body)
    assert seen == [
        ("a", 1, 1, 0, 1, True),
        ("a", 2, 2, 0, 2, True),
        ("b", 1, 1, 0, 1, True),
        # stream time 70: the first minute closed; now() is the window of stream time
        ("a", 1, 1, 2, 1, True),
        ("b", 1, 1, 1, 1, True),
        # b at 50 is late (its only window closed at stream time 60): dropped, counted,
        # so its first-minute window still holds 1
        ("b", 1, 1, 0, 1, True),
    ]
    assert t.late_events == 1
    assert dict(t.items()) == {
        ("a", (0.0, 59.9)): 2,
        ("a", (60.0, 119.9)): 1,
        ("b", (0.0, 59.9)): 1,
        ("b", (60.0, 119.9)): 1,
    }


def test_relativity_and_item_access(tmp_path) -> None:
    def body(w, event, seen):
        page = event.value.page
        w[page] += 1  # the record timestamp (10 s)
        by_field = w.relative_to_field(View.at)
        by_field[page] += 10  # the window of the field's time (130 s: the third minute)
        w.relative_to(lambda e: 200.0)[page] += 100  # a callable of the event
        seen.append(
            (
                w[page].current(),
                by_field[page].value(),
                w.relative_to_stream()[page].value(),
                w.relative_to_now()[page].value(),
                w[page][(180.0, 239.9)],
                w[page][event].current(),
            )
        )

    seen, t, w, app = run(tmp_path, [("a", 10, 130.0)], body)
    assert seen == [(1, 10, 1, 100, 100, 1)]  # now(): stream time is 200 s
    assert t[("a", (120.0, 179.9))] == 10
    app.close()


def test_views_need_a_key_index_and_follow_the_event(tmp_path) -> None:
    def body(w, event, seen):
        w[event.value.page] += 1
        if event.value.page == "z":
            seen.append(
                (
                    sorted(w.keys()),
                    sorted(w.items()),
                    sorted(w.values()),
                    sorted(w.items().now()),
                    sorted(w.items().current()),
                    sorted(w.keys().delta(60)),
                    sorted(w.values().current()),
                    len(w),
                )
            )
            seen.append(w.as_ansitable())

    events = [("a", 10, 0), ("b", 20, 0), ("a", 70, 0), ("z", 80, 0)]
    seen, _t, _w, _app = run(tmp_path, events, body)
    keys, items, values, now, current, delta_keys, cur_values, n = seen[0]
    assert keys == ["a", "b", "z"]
    # a key without a window at that time reads as the default (Faust's __missing__)
    assert items == [("a", 1), ("b", 0), ("z", 1)] == current == now
    assert values == [0, 1, 1] == cur_values
    assert delta_keys == ["a", "b", "z"]
    assert n == 3
    assert "a" in seen[1] and "views" in seen[1]


def test_without_a_key_index_views_are_refused(tmp_path) -> None:
    def body(w, event, seen):
        w[event.value.page] += 1
        for what in (lambda: list(w.keys()), lambda: len(w), lambda: w[event.value.page].keys()):
            with pytest.raises(NotImplementedError):
                what()
        seen.append("checked")

    seen, _t, _w, _app = run(tmp_path, [("a", 10, 0)], body, key_index=False)
    assert seen == ["checked"]


def test_in_place_operators_and_hopping_windows(tmp_path) -> None:
    app = App("hop", broker="local://", datadir=tmp_path)
    src = app.topic("n")
    t = app.Table("n", default=int)
    w = t.hopping(10, 5)
    ops = app.Table("ops", default=lambda: 12)
    wo = ops.tumbling(60)

    @app.agent(src)
    async def agent(stream):
        async for _event in stream.events():
            w["k"] += 2
            ws = wo["k"]
            ws -= 2  # 10
            ws *= 3  # 30
            ws //= 4  # 7
            ws **= 2  # 49
            ws %= 10  # 9
            ws |= 6  # 15
            ws &= 7  # 7
            ws ^= 1  # 6
            ws <<= 2  # 24
            ws >>= 1  # 12
            ws /= 8  # 1.5
            wo["k"] = ws.current() + 1  # plain assignment: every window of the event

    app.ensure_topics()
    asyncio.run(src.send(key="k", value=1, timestamp=6000))
    assert app.run(until_idle=True) == 0
    assert dict(t.items()) == {("k", (0.0, 9.9)): 2, ("k", (5.0, 14.9)): 2}
    assert dict(ops.items()) == {("k", (0.0, 59.9)): 2.5}


def test_app_table_with_window_is_windowed(tmp_path) -> None:
    app = App("aw", datadir=tmp_path)
    t = app.Table("hourly", default=int, window=TumblingWindow(3600, expires=7200))
    assert t.window == TumblingWindow(3600, expires=7200)
    assert t.windowed().name == "hourly"
