"""streamctl.testing: an app on the in-memory broker, run by the real worker, read back."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import streamctl.testing
from streamctl import App, Record
from streamctl.agents import AgentTestWrapper
from streamctl.exceptions import ConfigurationError, DecodeError
from streamctl.tables.exceptions import TableError
from streamctl.testing import MemoryTransport, read_table, read_topic, run_until_idle, send
from streamctl.transport import open_transport
from streamctl.transport.exceptions import UnknownTopic


class Order(Record, serializer="json"):
    id: int
    customer: str
    amount: float


def shop(datadir: Path, store: str = "memory://") -> tuple[App, list[Any]]:
    """Orders (2 partitions) counted and summed per customer; every order id echoed."""
    app = App("shop", broker="memory://", datadir=datadir, store=store)
    orders = app.topic("orders", partitions=2, key_type=str, value_type=Order)
    counts = app.Table("counts", default=int, partitions=2)
    totals = app.Table("totals", default=float, partitions=2)
    seen: list[Any] = []

    @app.agent(orders, sink=[app.topic("ids", partitions=2, key_type=str, value_type=int)])
    async def tally(stream):  # type: ignore[no-untyped-def]
        async for order in stream:
            seen.append(order.id)
            counts[order.customer] += 1
            totals[order.customer] += order.amount
            yield order.id

    return app, seen


def send_orders(app: App, orders: list[tuple[int, str, float]]) -> None:
    for i, customer, amount in orders:
        send(app, "orders", Order(id=i, customer=customer, amount=amount), key=customer)


@pytest.mark.parametrize("store", ["memory://", "sqlite://"])
def test_send_run_until_idle_and_read_back(tmp_path: Path, store: str) -> None:
    app, seen = shop(tmp_path, store)
    send_orders(app, [(1, "ada", 2.5), (2, "bob", 1.0), (3, "ada", 4.0), (4, "cy", 0.5)])
    assert run_until_idle(app) == 0
    assert sorted(seen) == [1, 2, 3, 4]
    assert read_table(app, "counts") == {"ada": 2, "bob": 1, "cy": 1}
    assert read_table(app, "totals") == {"ada": 6.5, "bob": 1.0, "cy": 0.5}
    ids = read_topic(app, "ids")
    assert sorted(e.value for e in ids) == [1, 2, 3, 4]
    # partition by partition, in offset order; the key went where the input's key went
    assert [(e.message.partition, e.message.offset) for e in ids] == sorted(
        (e.message.partition, e.message.offset) for e in ids
    )
    orders = {e.value.id: e for e in read_topic(app, "orders")}
    assert all(e.key == orders[e.value].key for e in ids)
    assert all(e.message.partition == orders[e.value].message.partition for e in ids)


def test_a_second_run_processes_only_new_records(tmp_path: Path) -> None:
    app, seen = shop(tmp_path)
    send_orders(app, [(1, "ada", 1.0), (2, "bob", 1.0)])
    run_until_idle(app)
    # a new App on the same data dir: the same in-memory broker, offsets and changelogs
    app, seen = shop(tmp_path)
    send_orders(app, [(3, "ada", 1.0)])
    run_until_idle(app)
    assert seen == [3]
    assert read_table(app, "counts") == {"ada": 2, "bob": 1}


def test_read_topic_keeps_headers_and_timestamps(tmp_path: Path) -> None:
    app = App("raw", broker="memory://", datadir=tmp_path)
    app.topic("events", partitions=3)
    where = send(app, "events", {"n": 1}, key=b"k", headers=[("h", b"\x00v")], timestamp=1.234)
    send(app, "events", {"n": 2}, partition=where.partition)
    [first, second] = read_topic(app, "events")
    assert (first.key, first.value, first.headers, first.message.timestamp) == (
        b"k",
        {"n": 1},
        (("h", b"\x00v"),),
        1.234,  # Faust's float seconds (#12)
    )
    assert first.message.timestamp_ms == 1234
    assert (first.message.offset, second.message.offset) == (0, 1)
    assert (second.key, second.value) == (None, {"n": 2})


def test_read_errors(tmp_path: Path) -> None:
    app = App("raw", broker="memory://", datadir=tmp_path)
    with pytest.raises(UnknownTopic, match="nowhere"):
        read_topic(app, "nowhere")
    with pytest.raises(TableError, match="no table 'nope'"):
        read_table(app, "nope")
    app.topic("bytes", value_serializer="raw")
    send(app, "bytes", b"not json")
    with pytest.raises(DecodeError):
        read_topic(App("other", broker="memory://", datadir=tmp_path), "bytes")


def test_memory_transport_is_registered_and_shared_per_datadir(tmp_path: Path) -> None:
    a = open_transport("memory://", datadir=tmp_path)
    b = open_transport("memory://", datadir=tmp_path / "." / "")
    assert isinstance(a, MemoryTransport) and a.broker is b.broker
    assert open_transport("memory://", datadir=tmp_path / "other").broker is not a.broker
    assert MemoryTransport().broker is not MemoryTransport().broker
    with pytest.raises(ConfigurationError, match="exactly_once needs kafka"):
        a.producer(transactional_id="x")


def test_exports() -> None:
    assert streamctl.testing.AgentTestWrapper is AgentTestWrapper
    assert sorted(streamctl.testing.__all__) == [
        "AgentTestWrapper",
        "MemoryTransport",
        "read_table",
        "read_topic",
        "run_until_idle",
        "send",
    ]
    doc = streamctl.testing.__doc__ or ""
    assert re.search(r"def test_counts\(tmp_path\):", doc)


def test_module_example_runs(tmp_path: Path) -> None:
    """The example in streamctl.testing's docstring, run as written."""
    doc = streamctl.testing.__doc__ or ""
    example = doc.split("::\n", 1)[1].split("\nTransports on", 1)[0]
    code = "\n".join(line[4:] for line in example.splitlines())
    namespace: dict[str, Any] = {}
    exec(compile(code, "streamctl.testing example", "exec"), namespace)
    namespace["test_counts"](tmp_path)
