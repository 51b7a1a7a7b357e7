"""One rule from key to partition (#9 §2): a table key lives in the partition its source
topic's key serializer puts the key's records in, however the table is written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import streamctl
from streamctl import App
from streamctl.testing import run_until_idle, send
from streamctl.transport.partitioner import partition_for

PARTS = 4


class User(streamctl.Record):
    name: str
    id: int


#: key type of the topic and the table -> keys that spread over the partitions
KEYS: dict[str, tuple[Any, list[Any]]] = {
    "str": (str, ["zed", "ada", "bob", "carol", "dave", "eve", "42", "true"]),
    "int": (int, [0, 1, 2, 3, 17, 99, 1234, -5]),
    "bytes": (None, [b"zed", b"ada", b"2024", b"true", b"x y", b"\xff\x00"]),
    "record": (User, [User(name=n, id=i) for i, n in enumerate(["zed", "ada", "bob", "cy"])]),
}


def where(table: Any) -> dict[Any, list[int]]:
    """Every key of the table and the partitions whose store holds it."""
    out: dict[Any, list[int]] = {}
    for p in range(table.partitions):
        for key, _ in table._state.store(p).items():
            out.setdefault(table._codec.decode_key(key), []).append(p)
    return out


def expected(topic: Any, keys: list[Any]) -> dict[Any, list[int]]:
    return {k: [partition_for(topic.key_serde.dumps(k), PARTS)] for k in keys}


def make(tmp_path: Path, kind: str) -> tuple[App, Any, Any]:
    key_type = KEYS[kind][0]
    app = App("kp", broker="memory://", datadir=tmp_path)
    topic = app.topic("words", partitions=PARTS, key_type=key_type)
    table = app.Table("counts", default=int, partitions=PARTS, key_type=key_type)
    return app, topic, table


@pytest.mark.parametrize("kind", sorted(KEYS))
def test_stream_writes_land_where_the_topic_puts_the_key(tmp_path: Path, kind: str) -> None:
    app, topic, table = make(tmp_path, kind)
    keys = KEYS[kind][1]

    @app.agent(topic)
    async def count(stream: Any) -> None:
        async for key, _ in stream.items():
            table[key] += 1

    for k in keys:
        send(app, "words", {}, key=k)
    run_until_idle(app)
    assert where(table) == expected(topic, keys)
    assert dict(table.items()) == {k: 1 for k in keys}


@pytest.mark.parametrize("kind", sorted(KEYS))
def test_writes_outside_a_stream_land_where_the_stream_would(tmp_path: Path, kind: str) -> None:
    app, topic, table = make(tmp_path, kind)
    keys = KEYS[kind][1]

    @app.agent(topic)
    async def count(stream: Any) -> None:
        async for key, _ in stream.items():
            table[key] += 1

    app.ensure_topics()
    for k in keys:
        table[k] = 10  # the Python API outside a stream
    from streamctl.worker import commit

    commit.commit_batch(table, app.producer)
    for k in keys:
        send(app, "words", {}, key=k)
    run_until_idle(app)
    assert where(table) == expected(topic, keys)
    assert dict(table.items()) == {k: 11 for k in keys}


@pytest.mark.parametrize("kind", sorted(KEYS))
def test_timer_writes_land_where_the_stream_would(tmp_path: Path, kind: str) -> None:
    app, topic, table = make(tmp_path, kind)
    keys = KEYS[kind][1]
    worker: Any = None

    @app.agent(topic)
    async def count(stream: Any) -> None:
        async for key, _ in stream.items():
            table[key] += 1

    @app.timer(0.01)
    async def seed() -> None:
        for k in keys:
            table[k] += 100
        worker.stop()

    worker = app.worker(install_signal_handlers=False)
    worker.run()
    for k in keys:
        send(app, "words", {}, key=k)
    run_until_idle(app)
    assert where(table) == expected(topic, keys)
    assert dict(table.items()) == {k: 101 for k in keys}
