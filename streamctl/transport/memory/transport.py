"""MemoryTransport: producers, consumers and topic admin on an in-process broker."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from streamctl.exceptions import ConfigurationError
from streamctl.transport.base import (
    GroupInfo,
    GroupMember,
    Message,
    TopicPartition,
    TopicSpec,
    Transport,
)
from streamctl.transport.exceptions import GroupNotEmpty
from streamctl.transport.memory.broker import MemoryBroker
from streamctl.transport.memory.consumer import MemoryConsumer
from streamctl.transport.memory.producer import MemoryProducer


class MemoryTransport(Transport):
    """``memory://``: a broker in this process's memory, for tests.

    It behaves as the embedded broker and Kafka do (it passes the same contract
    tests): partitions chosen by murmur2 of the key, offsets per partition,
    consumer groups with committed offsets, rebalance callbacks, end offsets,
    headers and timestamps. Unlike the embedded broker it balances a group's
    partitions across its members, so rebalancing can be tested in one process.
    It has no transactions (``exactly_once`` needs Kafka).

    Every transport opened on the same ``datadir`` shares one broker, for the
    life of the process (as ``local://`` transports share ``broker.db``); one made
    without a ``datadir`` has a broker of its own. Settings are accepted and ignored.
    """

    durable = False

    scheme = "memory"

    def __init__(
        self, url: str = "memory://", *, datadir: str | Path | None = None, **settings: Any
    ) -> None:
        self.url = url
        self.datadir = Path(datadir) if datadir is not None else None
        self.settings = settings
        self.broker = MemoryBroker.for_datadir(self.datadir)

    def __repr__(self) -> str:
        return f"<MemoryTransport {self.broker.where()}>"

    def producer(self, *, transactional_id: str | None = None) -> MemoryProducer:
        if transactional_id is not None:
            raise ConfigurationError(
                "processing_guarantee exactly_once needs kafka:// (Kafka transactions); "
                "the in-memory broker (memory://) is at-least-once"
            )
        return MemoryProducer(self.broker)

    def consumer(self, group_id: str | None) -> MemoryConsumer:
        return MemoryConsumer(self.broker, group_id)

    def create_topics(self, specs: Iterable[TopicSpec]) -> None:
        for spec in specs:
            self.broker.create(spec)

    def list_topics(self) -> dict[str, TopicSpec]:
        with self.broker.changed:
            return dict(self.broker.specs)

    def group_members(self, group_id: str) -> list[str] | None:
        """The group's members, as ``"member 1"``, in the order they joined."""
        with self.broker.changed:
            group = self.broker.groups.get(group_id)
            return [] if group is None else [f"member {m}" for m in group.members()]

    # -- group and topic administration ---------------------------------------------------
    def describe_group(self, group_id: str) -> GroupInfo:
        with self.broker.changed:
            group = self.broker.groups.get(group_id)
            if group is None:
                return GroupInfo(group_id, "Dead")
            members = tuple(
                GroupMember(
                    f"member {m}",
                    client_id="streamctl",
                    partitions=frozenset(tp for tp, o in group.owner.items() if o == m),
                )
                for m in group.members()
            )
            return GroupInfo(group_id, "Stable" if members else "Empty", members)

    def list_groups(self) -> list[GroupInfo]:
        with self.broker.changed:
            return [self.describe_group(g) for g in sorted(self.broker.groups)]

    def group_offsets(self, group_id: str) -> dict[TopicPartition, int]:
        with self.broker.changed:
            group = self.broker.groups.get(group_id)
            return {} if group is None else dict(group.offsets)

    def alter_group_offsets(self, group_id: str, offsets: Mapping[TopicPartition, int]) -> None:
        broker = self.broker
        with broker.changed:
            group = broker.group(group_id)
            if group.members():
                members = ", ".join(f"member {m}" for m in group.members())
                raise GroupNotEmpty(
                    f"consumer group {group_id!r} has live members ({members}): "
                    "stop its consumers first"
                )
            for tp in offsets:
                broker.log(tp)  # raises for an unknown topic or partition
            group.offsets.update({tp: int(off) for tp, off in offsets.items()})

    def offsets_for_times(
        self, timestamps: Mapping[TopicPartition, int]
    ) -> dict[TopicPartition, int | None]:
        with self.broker.changed:
            return {
                tp: next((m.offset for m in self.broker.log(tp) if m.timestamp >= ts), None)
                for tp, ts in timestamps.items()
            }

    def delete_topics(self, names: Iterable[str]) -> None:
        broker = self.broker
        with broker.changed:
            names = list(names)
            for name in names:
                broker.spec(name)  # raises UnknownTopic before anything is deleted
            for name in names:
                spec = broker.specs.pop(name)
                for p in range(spec.partitions):
                    tp = TopicPartition(name, p)
                    broker.logs.pop(tp, None)
                    for group in broker.groups.values():
                        group.offsets.pop(tp, None)
                        group.owner.pop(tp, None)

    # -- inspection (for tests) --------------------------------------------------------
    @property
    def logs(self) -> dict[TopicPartition, list[Message]]:
        """Every partition's records, in offset order (a snapshot: later sends are not in it)."""
        with self.broker.changed:
            return {tp: list(log) for tp, log in self.broker.logs.items()}

    def records(self, topic: str) -> list[Message]:
        """Every record of ``topic``, partition by partition, in offset order.

        Raises UnknownTopic for a topic the broker does not have.
        """
        with self.broker.changed:
            spec = self.broker.spec(topic)
            return [
                m
                for p in range(spec.partitions)
                for m in self.broker.logs[TopicPartition(topic, p)]
            ]

    def close(self) -> None:
        """Nothing to release: the broker outlives its transports (as a log file does)."""
