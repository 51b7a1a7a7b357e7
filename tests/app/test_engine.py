"""The library's engine: agents, streams, timers, dead letters, failures, offsets."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from support import read_topic, values

import streamctl.app as appmod
from streamctl.agents import AgentError
from streamctl.exceptions import DecodeError
from streamctl.transport.base import TopicPartition
from streamctl.transport.local import LocalTransport
from streamctl.transport.partitioner import partition_for


def make_app(tmp_path: Path, name: str = "t", **kw: Any) -> appmod.App:
    return appmod.App(name, datadir=tmp_path, **kw)


def produce(app: appmod.App, topic: str, items: list[tuple[Any, Any]]) -> None:
    app.ensure_topics()
    t = app.topics[topic]
    for key, value in items:
        t.send_soon(key=key, value=value)
    app.producer.flush()
    app.close()


def committed(tmp_path: Path, group: str, topic: str, partitions: int) -> dict[int, int | None]:
    transport = LocalTransport(datadir=tmp_path)
    c = transport.consumer(group)
    try:
        return {p: c.committed(TopicPartition(topic, p)) for p in range(partitions)}
    finally:
        transport.close()


def test_agent_test_context_runs_without_a_broker(tmp_path: Path) -> None:
    asyncio.run(_agent_test_context(tmp_path))


async def _agent_test_context(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    seen: list[Any] = []

    @app.agent(app.topic("in"))
    async def double(stream):  # type: ignore[no-untyped-def]
        async for value in stream:
            seen.append(stream.current_event.key)
            yield value * 2

    async with double.test_context() as agent:
        event = await agent.put(21, key="k")
        await agent.put(1)
        assert agent.results[event.message.offset] == 42
        assert agent.sent == [42, 2]
    assert seen == ["k", None]


def test_test_context_surfaces_agent_exceptions(tmp_path: Path) -> None:
    asyncio.run(_test_context_exceptions(tmp_path))


async def _test_context_exceptions(tmp_path: Path) -> None:
    app = make_app(tmp_path)

    @app.agent(app.topic("in"))
    async def boom(stream):  # type: ignore[no-untyped-def]
        async for value in stream:
            if value == "bad":
                raise ValueError("bad value")

    async with boom.test_context() as agent:
        await agent.put("ok")
        with pytest.raises(ValueError, match="bad value"):
            await agent.put("bad")


def test_filter_sink_and_keys_preserved(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    src = app.topic("src", partitions=3, key_serializer="raw", key_type=str)
    dst = app.topic("dst", partitions=3, key_serializer="raw", key_type=str)

    @app.agent(src, sink=[dst])
    async def evens(stream):  # type: ignore[no-untyped-def]
        async for v in stream.filter(lambda v: v["n"] % 2 == 0):
            yield {"n": v["n"], "half": v["n"] // 2}

    produce(app, "src", [(f"k{i % 5}", {"n": i}) for i in range(100)])
    assert make_app(tmp_path).run(until_idle=True) == 0  # a fresh App without agents: nothing to do
    app2 = make_app(tmp_path)
    src2 = app2.topic("src", partitions=3, key_serializer="raw", key_type=str)
    dst2 = app2.topic("dst", partitions=3, key_serializer="raw", key_type=str)
    app2.agent(src2, sink=[dst2], name="evens")(evens.fun)
    assert app2.run(until_idle=True) == 0
    out = read_topic(tmp_path, "dst")
    assert sorted(json.loads(m.value)["n"] for m in out) == list(range(0, 100, 2))
    for m in out:
        n = json.loads(m.value)["n"]
        assert m.key == f"k{n % 5}".encode()
        assert m.partition == partition_for(m.key, 3)


def test_group_by_repartitions_by_new_key(tmp_path: Path) -> None:
    app = make_app(tmp_path, "g")
    seen: list[tuple[Any, int, str]] = []

    @app.agent(app.topic("orders", partitions=4))
    async def by_customer(stream):  # type: ignore[no-untyped-def]
        async for event in stream.group_by(lambda o: o["customer"], name="customer").events():
            seen.append((event.key, event.message.partition, event.message.topic))

    produce(app, "orders", [(str(i), {"id": i, "customer": f"c{i % 7}"}) for i in range(70)])
    assert app.run(until_idle=True) == 0
    assert len(seen) == 70
    for key, partition, topic in seen:
        assert topic == "g-orders-customer-repartition"
        assert partition == partition_for(key, 4)
    assert {k for k, _, _ in seen} == {f"c{i}".encode() for i in range(7)}  # raw, as Faust


def test_take_batches_and_flushes_the_remainder_at_idle(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    chunks: list[list[int]] = []

    @app.agent(app.topic("nums", partitions=1))
    async def chunker(stream):  # type: ignore[no-untyped-def]
        async for chunk in stream.take(4, within=30):
            chunks.append(chunk)

    produce(app, "nums", [(None, i) for i in range(10)])
    assert app.run(until_idle=True) == 0
    assert chunks == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert committed(tmp_path, "t", "nums", 1) == {0: 10}


def test_items_sink_to_agent_and_timer(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    got: list[Any] = []
    ticks: list[int] = []

    @app.agent(app.topic("second", partitions=1, key_type=str))
    async def second(stream):  # type: ignore[no-untyped-def]
        async for key, value in stream.items():
            got.append((key, value))

    @app.agent(app.topic("first", partitions=1, key_serializer="raw", key_type=str), sink=[second])
    async def first(stream):  # type: ignore[no-untyped-def]
        async for value in stream:
            await asyncio.sleep(0.05)
            yield value + 1

    @app.timer(0.05)
    async def tick() -> None:
        ticks.append(1)

    produce(app, "first", [("a", 1), ("b", 2)])
    assert app.run(until_idle=True) == 0
    assert got == [("a", 2), ("b", 3)]
    assert ticks, "the timer never fired while the worker ran"


def test_concurrency_keeps_per_partition_order(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    seen: dict[int, list[int]] = {}

    @app.agent(app.topic("c", partitions=4), concurrency=2)
    async def worker(stream):  # type: ignore[no-untyped-def]
        async for event in stream.events():
            await asyncio.sleep(0)
            seen.setdefault(event.message.partition, []).append(event.value["i"])

    produce(app, "c", [(str(i), {"i": i}) for i in range(200)])
    assert app.run(until_idle=True) == 0
    assert sum(len(v) for v in seen.values()) == 200
    for values_ in seen.values():
        assert values_ == sorted(values_)


def test_agent_error_names_the_event_and_commits_nothing_of_its_batch(tmp_path: Path) -> None:
    app = make_app(tmp_path, "e")
    out = app.topic("out", partitions=1)

    @app.agent(app.topic("in", partitions=1), sink=[out])
    async def fragile(stream):  # type: ignore[no-untyped-def]
        async for value in stream:
            if value == 3:
                raise RuntimeError("cannot handle 3")
            yield value

    produce(app, "in", [(None, i) for i in range(6)])
    with pytest.raises(
        AgentError,
        match=r"^in\[0\]@3: agent 'fragile' failed at .*test_engine\.py:193: "
        r"RuntimeError: cannot handle 3 \(on_error: stop; ",
    ):
        app.run(until_idle=True)
    # nothing of the failed batch is committed or half-sent: it is replayed on restart
    assert committed(tmp_path, "e", "in", 1) == {0: None}
    assert values(tmp_path, "out") == []


def test_decode_errors_go_to_the_dead_letter_topic(tmp_path: Path) -> None:
    app = make_app(tmp_path, "d")
    good: list[Any] = []

    @app.agent(app.topic("raw", partitions=2), dead_letter="raw-invalid")
    async def consume(stream):  # type: ignore[no-untyped-def]
        async for value in stream:
            good.append(value)

    app.ensure_topics()
    p = app.producer
    p.send("raw", b"k", b'{"ok": 1}', partition=0)
    p.send("raw", b"k", b'{"ok": ', partition=0)
    p.send("raw", b"k", b"\xff\xfe", partition=1)
    p.send("raw", b"k", b'{"ok": 2}', partition=1)
    p.flush()
    app.close()
    assert app.run(until_idle=True) == 0
    assert sorted(v["ok"] for v in good) == [1, 2]
    dead = sorted(
        read_topic(tmp_path, "raw-invalid"),
        key=lambda m: dict(m.headers)["streamctl.source.partition"],
    )
    assert [m.value for m in dead] == [b'{"ok": ', b"\xff\xfe"]
    for m, (part, off) in zip(dead, [(0, 1), (1, 0)], strict=True):
        h = dict(m.headers)
        assert h["streamctl.source.topic"] == b"raw"
        assert (h["streamctl.source.partition"], h["streamctl.source.offset"]) == (
            str(part).encode(),
            str(off).encode(),
        )
        assert b"invalid JSON" in h["streamctl.error"]


def test_decode_error_without_dead_letter_stops_with_the_position(tmp_path: Path) -> None:
    app = make_app(tmp_path, "n")

    @app.agent(app.topic("raw", partitions=1))
    async def consume(stream):  # type: ignore[no-untyped-def]
        async for _ in stream:
            pass

    app.ensure_topics()
    app.producer.send("raw", None, b"not json", partition=0)
    app.producer.flush()
    app.close()
    with pytest.raises(DecodeError, match=r"cannot decode raw\[0\]@0: invalid JSON"):
        app.run(until_idle=True)


def test_restart_resumes_from_committed_offsets(tmp_path: Path) -> None:
    def build() -> tuple[appmod.App, list[int]]:
        app = make_app(tmp_path, "r")
        seen: list[int] = []

        @app.agent(app.topic("in", partitions=2))
        async def count(stream):  # type: ignore[no-untyped-def]
            async for v in stream:
                seen.append(v)

        return app, seen

    app, seen = build()
    produce(app, "in", [(str(i), i) for i in range(10)])
    assert app.run(until_idle=True) == 0
    assert sorted(seen) == list(range(10))
    app, seen = build()
    produce(app, "in", [(str(i), i) for i in range(10, 15)])
    assert app.run(until_idle=True) == 0
    assert sorted(seen) == list(range(10, 15))


def test_second_worker_of_the_same_group_is_refused_on_the_embedded_broker(tmp_path: Path) -> None:
    t1 = LocalTransport(datadir=tmp_path)
    from streamctl.transport.base import TopicSpec
    from streamctl.transport.exceptions import TransportError

    t1.create_topics([TopicSpec("x", 1)])
    c1 = t1.consumer("grp")
    c1.subscribe(["x"])
    import subprocess
    import sys

    code = (
        "import sys; from pathlib import Path; from streamctl.transport.local import LocalTransport\n"
        f"c = LocalTransport(datadir=Path({str(tmp_path)!r})).consumer('grp')\n"
        "try:\n    c.subscribe(['x'])\nexcept Exception as e:\n    print(e); sys.exit(3)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 3, res.stderr
    assert "already consumed by process" in res.stdout
    c1.close()
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    assert TransportError


def test_local_compaction_keeps_the_latest_record_per_key_and_its_offset(tmp_path: Path) -> None:
    from streamctl.transport.base import TopicSpec

    t = LocalTransport(datadir=tmp_path)
    t.create_topics([TopicSpec("cl", 1, compacting=True)])
    p = t.producer()
    for i in range(2500):  # several record batches per flush
        p.send(
            "cl",
            f"k{i % 10}".encode(),
            str(i).encode(),
            headers=[("h", b"%d" % i)] if i % 7 == 0 else None,
        )
    p.send("cl", b"k3", None)  # a tombstone is kept (it is the latest for k3)
    p.flush()
    assert t.compact("cl") == 2501 - 10
    c = t.consumer(None)
    tp = TopicPartition("cl", 0)
    c.assign([tp])
    got = c.poll(10_000)
    latest = {f"k{k}": 2490 + k for k in range(10) if k != 3}
    assert {m.key.decode(): m.offset for m in got if m.value is not None} == latest
    assert [(m.key, m.value, m.offset) for m in got if m.value is None] == [(b"k3", None, 2500)]
    assert all(m.value == str(m.offset).encode() for m in got if m.value is not None)
    assert [m.headers for m in got if m.offset == 2492] == [(("h", b"2492"),)]
    # offsets go on after compaction, and a seek into a gap lands on the next record
    p.send("cl", b"k0", b"new")
    assert p.flush()[0].offset == 2501
    c.seek(tp, 5)
    assert c.poll(1)[0].offset == 2490
    assert c.end_offsets([tp]) == {tp: 2502}
    t.close()


def test_broker_log_of_another_format_is_refused(tmp_path: Path) -> None:
    import sqlite3

    from streamctl.transport.exceptions import TransportError

    LocalTransport(datadir=tmp_path).close()
    db = sqlite3.connect(tmp_path / "broker.db")
    db.execute("PRAGMA user_version=1")
    db.close()
    with pytest.raises(TransportError, match="has log format 1, this streamctl reads format 3"):
        LocalTransport(datadir=tmp_path)


def test_compaction_of_distinct_keys_is_not_repeated_on_every_flush(
    tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import streamctl.transport.local.log as local
    from streamctl.transport.base import TopicSpec

    monkeypatch.setattr(local, "COMPACT_EVERY", 100)
    t = LocalTransport(datadir=tmp_path)
    t.create_topics([TopicSpec("cl", 1, compacting=True)])
    p = t.producer()
    for i in range(150):  # 150 distinct keys: compaction finds nothing to drop
        p.send("cl", b"k%d" % i, b"v")
    p.flush()

    def state() -> tuple[int, int, int]:
        return t.db.execute(
            "SELECT next_offset, compacted_to, compacted_live FROM partitions"
        ).fetchone()

    assert state() == (150, 150, 150)
    calls: list[object] = []
    real = t.compact
    monkeypatch.setattr(t, "compact", lambda *a: calls.append(a) or real(*a))
    for i in range(149):  # fewer new records than the 150 kept: no full scan yet
        p.send("cl", b"x%d" % i, b"v")
        p.flush()
    assert calls == [] and state() == (299, 150, 150)
    p.send("cl", b"k0", b"w")
    p.flush()
    assert len(calls) == 1 and state() == (300, 300, 299)
    t.close()
