"""Helpers for the table tests: a minimal App, and a small in-process Transport.

``ListTransport`` is a real (if tiny) implementation of the transport seam,
kept here so table tests run without the embedded broker; the recovery tests
also run against ``LocalTransport`` when it is available.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamctl.events import Event, set_current_event
from streamctl.transport.base import (
    Consumer,
    Message,
    Producer,
    RecordMetadata,
    TopicPartition,
    TopicSpec,
    Transport,
)
from streamctl.worker import commit


@dataclass
class Topic:
    name: str
    partitions: int | None = None
    compacting: bool = False
    internal: bool = False
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Conf:
    datadir: Path
    table_store: str | None = None


class App:
    """Just what a table uses: ``id``, ``conf.datadir``, ``conf.table_store``, ``topic()``."""

    def __init__(self, id: str, datadir: Path, *, table_store=None, topic_partitions=1):
        self.id = id
        self.conf = Conf(Path(datadir), table_store)
        self.topic_partitions = topic_partitions
        self.topics: dict[str, Topic] = {}

    def topic(self, name, *, partitions=None, compacting=False, internal=False, **options):
        t = Topic(name, partitions or self.topic_partitions, compacting, internal, options)
        self.topics[name] = t
        return t


@contextlib.contextmanager
def in_event(partition: int, topic: str = "source", offset: int = 0) -> Iterator[Event]:
    """Run the block as if an agent were processing a record of ``topic[partition]``."""
    event = Event(None, None, Message(topic, partition, offset, None, None, 0))
    set_current_event(event)
    try:
        yield event
    finally:
        set_current_event(None)


class ListTransport(Transport):
    """Partitions as Python lists, shared by every producer and consumer of the instance."""

    scheme = "list"

    def __init__(self, url: str = "list://", *, datadir: Path | None = None) -> None:
        self.specs: dict[str, TopicSpec] = {}
        self.logs: dict[TopicPartition, list[Message]] = {}

    def create_topics(self, specs: Iterable[TopicSpec]) -> None:
        for spec in specs:
            if spec.name not in self.specs:
                self.specs[spec.name] = spec
                for p in range(spec.partitions):
                    self.logs.setdefault(TopicPartition(spec.name, p), [])

    def list_topics(self) -> dict[str, TopicSpec]:
        return dict(self.specs)

    def producer(self) -> Producer:
        return _ListProducer(self)

    def consumer(self, group_id: str | None) -> Consumer:
        return _ListConsumer(self)

    def end(self, tp: TopicPartition) -> int:
        log = self.logs.setdefault(tp, [])
        return log[-1].offset + 1 if log else 0


class _ListProducer(Producer):
    def __init__(self, transport: ListTransport) -> None:
        self.t = transport
        self.queue: list[tuple[str, bytes | None, bytes | None, int | None]] = []

    def send(self, topic, key, value, *, partition=None, headers=None, timestamp=None):
        self.queue.append((topic, key, value, partition))

    @property
    def pending(self) -> int:
        return len(self.queue)

    def flush(self) -> list[RecordMetadata]:
        out = []
        for topic, key, value, partition in self.queue:
            assert partition is not None, "tables always send with an explicit partition"
            tp = TopicPartition(topic, partition)
            offset = self.t.end(tp)
            self.t.logs.setdefault(tp, []).append(Message(topic, partition, offset, key, value, 0))
            out.append(RecordMetadata(topic, partition, offset))
        self.queue = []
        return out


class _ListConsumer(Consumer):
    def __init__(self, transport: ListTransport) -> None:
        self.t = transport
        self.positions: dict[TopicPartition, int] = {}

    def assign(self, partitions: Iterable[TopicPartition]) -> None:
        self.positions = {tp: self.positions.get(tp, 0) for tp in partitions}

    def subscribe(self, topics: Sequence[str], listener=None) -> None:
        raise NotImplementedError

    def assignment(self) -> set[TopicPartition]:
        return set(self.positions)

    def poll(self, max_records: int = 1000, timeout: float = 0.0) -> list[Message]:
        out: list[Message] = []
        for tp, pos in self.positions.items():
            records = [m for m in self.t.logs[tp] if m.offset >= pos][: max_records - len(out)]
            if records:
                out.extend(records)
                self.positions[tp] = records[-1].offset + 1
        if not out and timeout:
            time.sleep(min(timeout, 0.01))
        return out

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.positions[tp] = offset

    def position(self, tp: TopicPartition) -> int:
        return self.positions[tp]

    def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        pass

    def committed(self, tp: TopicPartition) -> int | None:
        return None

    def end_offsets(self, tps: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: self.t.end(tp) for tp in tps}


def run_batch(table, producer: Producer) -> list[RecordMetadata]:
    """What the worker does at the end of a batch, for one table."""
    return commit.commit_batch(table, producer)
