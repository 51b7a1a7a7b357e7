"""Helpers for the table tests: a minimal App that declares topics on a transport, and
running code as if an agent were processing a record."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamctl.events import Event, set_current_event
from streamctl.transport.base import Message, Producer, RecordMetadata, TopicSpec, Transport
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
    """Just what a table uses: ``id``, ``conf.datadir``, ``conf.table_store``, ``topic()``.

    Given a ``transport``, every topic declared is created there too (as the
    real App's ``ensure_topics`` does), so tables can write their changelogs.
    """

    def __init__(
        self,
        id: str,
        datadir: Path,
        *,
        table_store: str | None = None,
        topic_partitions: int = 1,
        transport: Transport | None = None,
    ) -> None:
        self.id = id
        self.conf = Conf(Path(datadir), table_store)
        self.topic_partitions = topic_partitions
        self.topics: dict[str, Topic] = {}
        self.transport = transport

    def topic(self, name, *, partitions=None, compacting=False, internal=False, **options):
        t = Topic(name, partitions or self.topic_partitions, compacting, internal, options)
        self.topics[name] = t
        if self.transport is not None:
            self.transport.create_topics([TopicSpec(name, t.partitions or 1, compacting)])
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


def run_batch(table: Any, producer: Producer) -> list[RecordMetadata]:
    """What the worker does at the end of a batch, for one table."""
    return commit.commit_batch(table, producer)
