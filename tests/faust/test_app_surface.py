"""Faust's App surface (#12): settings, conf, store aliases, agents' types, timers,
topics created on first use, send futures, timestamps and events."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import warnings
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from faust_support import fresh_dir  # noqa: F401 (autouse)
from support import streamctl_run

import streamctl as faust
from streamctl.exceptions import ConfigurationError, ValidationError
from streamctl.faustsettings import FaustSettingWarning
from streamctl.testing import read_topic


@pytest.mark.parametrize(
    "setting",
    [
        {"version": 2},
        {"origin": "proj"},
        {"autodiscover": True},
        {"web_enabled": False},
        {"stream_buffer_maxsize": 100},
    ],
)
def test_faust_settings_that_do_not_apply_warn_once_naming_the_setting(setting) -> None:
    name = next(iter(setting))
    with pytest.warns(FaustSettingWarning, match=f"setting '{name}' does not apply") as got:
        faust.App("r03", **setting)
        faust.App("r03b", **setting)
    assert len([w for w in got if name in str(w.message)]) == 1
    assert got[0].filename == __file__  # points at the App(...) line, not at streamctl


def test_an_unknown_setting_is_refused_naming_it() -> None:
    with pytest.raises(ConfigurationError, match="unknown setting 'verison'"):
        faust.App("r03", verison=2)


def test_faust_names_of_streamctl_settings_apply() -> None:
    app = faust.App("r03", broker_commit_interval=2.5, broker_max_poll_records=7)
    assert (app.conf.commit_interval, app.conf.max_poll_records) == (2.5, 7)
    assert app.conf.store == "sqlite://"


def test_app_wide_serializers_apply_to_every_topic_that_names_none() -> None:
    app = faust.App("r03", key_serializer="json", value_serializer="raw")
    t = app.topic("t")
    assert (t.key_serde.codec.name, t.value_serde.codec.name) == ("json", "raw")
    own = app.topic("own", key_serializer="raw", value_serializer="json")
    assert (own.key_serde.codec.name, own.value_serde.codec.name) == ("raw", "json")
    asyncio.run(t.send(key={"k": 1}, value=b"\x00bytes"))
    (event,) = read_topic(app, "t")
    assert (event.key, event.value) == ({"k": 1}, b"\x00bytes")


def test_rocksdb_is_the_sqlite_store_with_one_warning() -> None:
    with pytest.warns(FaustSettingWarning, match="rocksdb.*SQLite store") as got:
        app = faust.App("r06", store="rocksdb://")
        app.conf.store = "rocksdb://"
    assert len(got) == 1
    assert app.Table("totals", default=int).store_url == "sqlite://"


def clicks_app():
    """r07: clicks counted per user (a fresh App object each call, one data dir)."""
    app = faust.App("r07")
    clicks = app.topic("clicks", value_type=str)
    per_user = app.Table("per-user", default=int)

    @app.agent(clicks)
    async def count(stream):
        async for user in stream:
            per_user[user] += 1
            yield user

    return app, clicks, per_user, count


def test_conf_store_assigned_after_tables_are_declared_takes_effect() -> None:
    app, clicks, per_user, _ = clicks_app()
    # a real run leaves a count in ./.streamctl
    asyncio.run(clicks.send(value="ann"))
    app.run(until_idle=True)
    assert per_user["ann"] == 1

    app2, _, per_user2, count2 = clicks_app()

    async def test() -> None:
        app2.conf.store = "memory://"
        async with count2.test_context() as agent:
            await agent.put("ann")
            assert per_user2["ann"] == 1  # not 2: the real run's store is not read

    asyncio.run(test())
    assert per_user2.store_url == "memory://"
    assert per_user2.use_store("sqlite://") is False  # its store is open: no re-pointing


def test_unknown_names_assigned_on_conf_warn_once() -> None:
    app = faust.App("r07")
    with pytest.warns(FaustSettingWarning, match="unknown setting 'colour'") as got:
        app.conf.colour = "red"
        app.conf.colour = "blue"
    assert len(got) == 1
    with pytest.warns(FaustSettingWarning, match="'web_port' does not apply"):
        app.conf.web_port = 6066


def test_agent_key_type_and_value_type_type_its_own_topic() -> None:
    app = faust.App("r05")

    @app.agent(key_type=int, value_type=int)
    async def reserve(stream):
        async for _product_id, _qty in stream.items():
            pass

    assert (reserve.channel.key_type, reserve.channel.value_type) == (int, int)
    with pytest.raises(ConfigurationError, match="declare them there"):
        app.agent(app.topic("typed"), name="other", value_type=int)(reserve.fun)


def test_finalize_and_flow_control_exist_and_do_nothing() -> None:
    app = faust.App("r10")
    assert app.finalize() is None
    app.flow_control.resume()
    app.flow_control.suspend()
    app.loop = asyncio.new_event_loop()
    app.loop.close()


def test_timer_takes_on_leader_by_position_and_timedelta_intervals() -> None:
    app = faust.App("r20")
    timer = app.timer(5.0, True)(lambda: None)
    assert (timer.interval, timer.on_leader) == (5.0, True)
    assert app.timer(timedelta(minutes=2))(lambda: None).interval == 120.0


def test_validation_error_is_in_streamctl_exceptions() -> None:
    class Positive(faust.Record, validation=True):
        n: int = faust.models.fields.IntegerField(min_value=1)  # type: ignore[attr-defined]

    with pytest.raises(ValidationError):
        Positive(n=0)


def test_declared_topics_are_created_on_first_send_with_their_partitions() -> None:
    app = faust.App("r02")
    orders = app.topic("orders", value_type=int, partitions=3)
    asyncio.run(orders.send(value=1))  # no worker ever ran
    assert app.transport.list_topics()["orders"].partitions == 3
    assert [e.value for e in read_topic(app, "orders")] == [1]


def test_declare_and_maybe_declare_and_a_partition_mismatch_is_clear() -> None:
    app = faust.App("r02")
    t = app.topic("declared", partitions=2)
    t.declare()
    asyncio.run(t.maybe_declare())
    assert app.transport.list_topics()["declared"].partitions == 2
    other = faust.App("r02-other")
    mismatched = other.topic("declared", partitions=4)
    with pytest.raises(ConfigurationError, match="exists with 2 partition.*declares 4"):
        asyncio.run(mismatched.send(value=1))
    assert app.transport.list_topics()["declared"].partitions == 2


def test_the_worker_refuses_a_topic_whose_partitions_differ_as_send_does(
    fresh_dir: Path,  # noqa: F811
) -> None:
    (fresh_dir / "copart.py").write_text(
        "import streamctl as faust\n"
        "app = faust.App('copart', broker='local://')\n"
        "orders = app.topic('orders', partitions=4)\n"
        "@app.agent(orders)\n"
        "async def show(stream):\n"
        "    async for order in stream:\n"
        "        print(order)\n"
        "if __name__ == '__main__':\n"
        "    app.main()\n"
    )
    other = faust.App("copart-producer")
    asyncio.run(other.topic("orders", partitions=2).send(value=1))  # another app made it
    message = (
        "error: topic 'orders' exists with 2 partition(s) but this app declares 4: use the "
        "same count (or delete the topic with 'streamctl topic delete orders')"
    )
    by_main = subprocess.run(
        [sys.executable, "copart.py", "worker", "--until-idle", "-l", "warning"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    by_cli = streamctl_run("worker", "-A", "copart", "--until-idle", "-l", "warning", cwd=fresh_dir)
    for done in (by_main, by_cli):
        assert (done.returncode, done.stderr.strip().splitlines()) == (2, [message])
        assert done.stdout == ""  # the record was not processed
    assert other.transport.list_topics()["orders"].partitions == 2


def test_send_returns_a_future_of_the_record_metadata() -> None:
    app = faust.App("r12")
    t = app.topic("t", value_type=int)

    async def main() -> None:
        fut = await t.send(value=1)
        meta = await fut
        assert (meta.topic, meta.offset) == ("t", 0)
        meta = await (await t.send(value=2))
        assert meta.offset == 1

    asyncio.run(main())


def test_send_inside_a_running_worker_returns_a_done_future_and_does_not_deadlock() -> None:
    app = faust.App("r12w")
    src = app.topic("src", value_type=int)
    out = app.topic("out", value_type=int)
    metas = []

    @app.agent(src)
    async def forward(stream):
        async for v in stream:
            metas.append(await (await out.send(value=v * 10)))

    asyncio.run(src.send(value=4))
    app.run(until_idle=True)
    assert [(m.topic, m.offset) for m in metas] == [("out", -1)]
    assert [e.value for e in read_topic(app, "out")] == [40]


def test_event_timestamps_are_float_seconds_and_send_takes_them() -> None:
    app = faust.App("r13")
    t = app.topic("t", value_type=str)
    got = []

    @app.agent(t)
    async def read(stream):
        async for event in stream.events():
            got.append((event.value, event.message.timestamp, event.message.timestamp_ms))

    before = time.time()
    asyncio.run(t.send(value="now"))
    asyncio.run(t.send(value="given", timestamp=1700000000.25))
    app.run(until_idle=True)
    (v1, ts1, ms1), (v2, ts2, ms2) = got
    assert before - 1 <= ts1 <= time.time() and isinstance(ts1, float)
    assert datetime.fromtimestamp(ts1).year >= 2026
    assert (v2, ts2, ms2) == ("given", 1700000000.25, 1700000000250)
    assert ms1 == round(ts1 * 1000)


def test_event_ack_and_async_with_event() -> None:
    app = faust.App("r15")
    t = app.topic("t", value_type=str)
    seen = []

    @app.agent(t)
    async def read(stream):
        async for event in stream.events():
            async with event:
                seen.append(event.value)
            assert event.ack() is True

    asyncio.run(t.send(value="x"))
    app.run(until_idle=True)
    assert seen == ["x"]


def test_agent_send_takes_a_timestamp_and_cast_takes_headers() -> None:
    app = faust.App("r20")
    t = app.topic("t", value_type=str)

    @app.agent(t)
    async def a(stream):
        async for v in stream:
            yield v

    asyncio.run(a.send(value="x", timestamp=1.5))
    asyncio.run(a.cast("y", headers=[("h", b"1")]))
    x, y = read_topic(app, "t")
    assert (x.value, x.message.timestamp_ms) == ("x", 1500)
    assert (y.value, list(y.message.headers)) == ("y", [("h", b"1")])


def test_no_warning_for_a_plain_app() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        faust.App("plain", broker="local://", topic_partitions=2, store="memory://")
