"""Test streamctl apps without a broker: an in-memory transport, and helpers around the real worker.

An app on ``broker="memory://"`` runs through the same worker, tables and
commit order as on ``local://`` or Kafka, with its topics in this process's
memory. Feed it with :func:`send`, run it with :func:`run_until_idle`, and
check what it wrote with :func:`read_topic` and :func:`read_table`::

    from streamctl import App
    from streamctl.testing import read_table, read_topic, run_until_idle, send


    def test_counts(tmp_path):
        app = App("shop", broker="memory://", datadir=tmp_path, store="memory://")
        orders = app.topic("orders", partitions=2, key_type=str)
        counts = app.Table("counts", default=int, partitions=2)

        @app.agent(orders, sink=[app.topic("seen")])
        async def count(stream):
            async for order in stream:
                counts[order["customer"]] += 1
                yield order["id"]

        for i, customer in enumerate(["ada", "bob", "ada"]):
            send(app, "orders", {"id": i, "customer": customer}, key=customer)
        run_until_idle(app)
        assert read_table(app, "counts") == {"ada": 2, "bob": 1}
        assert sorted(e.value for e in read_topic(app, "seen")) == [0, 1, 2]

Transports on the same data dir share one in-memory broker for the life of the
process, so a test gets a fresh one from a fresh ``datadir`` (pytest's
``tmp_path``). Tables still keep their stores under ``datadir`` unless the app
(or the table) uses ``store="memory://"``.

To test one agent without any worker, use its test context:
``async with agent.test_context() as a: await a.put(value)`` (an
:class:`AgentTestWrapper`).
"""

from __future__ import annotations

import time
from typing import Any

from streamctl.agenttesting import AgentTestWrapper
from streamctl.app import App
from streamctl.events import Event
from streamctl.transport.base import Headers, Message, RecordMetadata, TopicPartition, Transport
from streamctl.transport.exceptions import TransportError, UnknownTopic
from streamctl.transport.memory import MemoryTransport

__all__ = [
    "AgentTestWrapper",
    "MemoryTransport",
    "read_table",
    "read_topic",
    "run_until_idle",
    "send",
]


def send(
    app: App,
    topic: str,
    value: Any = None,
    *,
    key: Any = None,
    partition: int | None = None,
    headers: Headers | None = None,
    timestamp: float | None = None,
) -> RecordMetadata:
    """Write one record to ``topic`` now and return where it landed.

    ``key`` and ``value`` are encoded as the app declared the topic (an
    undeclared name is declared with the defaults: text or bytes keys, JSON
    values). The app's declared topics are created first if the broker lacks
    them. ``timestamp`` is in float seconds since the epoch, as Faust's ``send``
    takes it (default: now).
    """
    declared = app.topic(topic)
    app.ensure_topics()
    declared.send_soon(
        key=key, value=value, partition=partition, headers=headers, timestamp=timestamp
    )
    return app.producer.flush()[-1]


def run_until_idle(app: App) -> int:
    """Run the app's worker in this process until its input is drained; return its exit code (0).

    It is the real worker (``app.run(until_idle=True)``): it creates the topics,
    recovers the tables, processes every record the app's consumer group has not
    committed, commits, and closes the app. An agent's exception stops it and is
    raised here.
    """
    return app.run(until_idle=True)


def read_topic(app: App, topic: str, *, timeout: float = 30.0) -> list[Event]:
    """Every record of ``topic``, decoded, partition by partition in offset order.

    Each :class:`~streamctl.events.Event` has the decoded ``key`` and ``value``
    and the ``message`` (partition, offset, headers, ``timestamp`` in float seconds
    as in Faust, ``timestamp_ms`` in milliseconds). Records
    are decoded as the app declared the topic (undeclared: as :func:`send` does);
    a topic declared without ``key_type`` gives its keys as bytes (``b"a"``), as
    Faust's raw key serializer does. Reads the records there are when it starts, without a consumer group (no
    offsets are committed). Raises UnknownTopic for a topic the broker lacks,
    the first record's DecodeError for one that does not decode, and
    TransportError when the records cannot all be read within ``timeout`` seconds.
    """
    declared = app.topic(topic)
    events, bad = declared.decode(_messages(app.transport, topic, timeout))  # Faust's units
    if bad:
        raise bad[0][1]
    return events


def read_table(app: App, table: str) -> dict[Any, Any]:
    """The table's contents as a dict of decoded keys and values.

    Read as ``streamctl table dump`` reads it: when no worker of the app runs,
    the table's stores are first brought up to date from its changelog. Raises
    TableError for a table the app does not have.
    """
    from streamctl.admin import tables as admin

    return dict(admin.items(app, table))


def _messages(transport: Transport, topic: str, timeout: float) -> list[Message]:
    """Every record of ``topic`` up to its end offsets when called, in partition, offset order."""
    spec = transport.list_topics().get(topic)
    if spec is None:
        raise UnknownTopic(f"topic {topic!r} does not exist on the broker")
    tps = [TopicPartition(topic, p) for p in range(spec.partitions)]
    consumer = transport.consumer(None)
    try:
        consumer.assign(tps)
        ends = consumer.end_offsets(tps)
        out: list[Message] = []
        deadline = time.monotonic() + timeout
        while any(consumer.position(tp) < end for tp, end in ends.items()):
            if time.monotonic() > deadline:
                raise TransportError(f"read {topic!r}: not every record arrived in {timeout}s")
            out += consumer.poll(max_records=10_000, timeout=0.1)
    finally:
        consumer.close()
    return sorted((m for m in out if m.offset < ends[m.tp]), key=lambda m: (m.partition, m.offset))
