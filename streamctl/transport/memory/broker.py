"""The in-memory broker's state: topics, partition logs and consumer groups, behind one lock.

A :class:`MemoryBroker` lives in this process only. Every ``memory://``
transport opened on the same data dir shares one (as ``local://`` transports
share ``<datadir>/broker.db``), so an app that closes and reopens its transport,
or a second app on the same data dir, sees the same topics, records and
committed offsets. A transport made without a data dir gets a broker of its own.
"""

from __future__ import annotations

import threading
from pathlib import Path

from streamctl.transport.base import Message, TopicPartition, TopicSpec
from streamctl.transport.exceptions import TransportError, UnknownTopic
from streamctl.transport.memory.groups import Group

_BROKERS: dict[str, MemoryBroker] = {}
_BROKERS_LOCK = threading.Lock()


class MemoryBroker:
    """Topics and their partitions as lists of :class:`Message` (offset = list index).

    ``changed`` is the broker's one lock (re-entrant), also a condition that
    flushes notify, so a waiting ``poll`` wakes as soon as records arrive. Records
    are never removed: there is no retention and no compaction (readers see every
    record; Kafka's compaction is lazy, so none of them may rely on it).
    """

    def __init__(self, name: str = "") -> None:
        self.name = name
        self.changed = threading.Condition(threading.RLock())
        self.specs: dict[str, TopicSpec] = {}
        self.logs: dict[TopicPartition, list[Message]] = {}
        self.groups: dict[str, Group] = {}

    @classmethod
    def for_datadir(cls, datadir: Path | None) -> MemoryBroker:
        """The broker shared by every transport on ``datadir``; a new one for None."""
        if datadir is None:
            return cls()
        key = str(Path(datadir).resolve())
        with _BROKERS_LOCK:
            broker = _BROKERS.get(key)
            if broker is None:
                broker = _BROKERS[key] = cls(key)
            return broker

    @staticmethod
    def forget(datadir: Path) -> None:
        """Drop the broker of ``datadir`` (its records and offsets); the next transport
        opened there starts empty. Transports still open keep the old one."""
        with _BROKERS_LOCK:
            _BROKERS.pop(str(Path(datadir).resolve()), None)

    def where(self) -> str:
        return f"the in-memory broker {self.name}" if self.name else "the in-memory broker"

    # -- topics ----------------------------------------------------------------------
    def create(self, spec: TopicSpec) -> None:
        """Create ``spec``'s topic unless it exists (an existing one is left alone)."""
        if spec.partitions < 1:
            raise TransportError(f"topic {spec.name!r}: partitions must be >= 1")
        with self.changed:
            if spec.name in self.specs:
                return
            self.specs[spec.name] = spec
            for p in range(spec.partitions):
                self.logs[TopicPartition(spec.name, p)] = []

    def spec(self, topic: str) -> TopicSpec:
        """The topic's spec; raises UnknownTopic."""
        spec = self.specs.get(topic)
        if spec is None:
            raise UnknownTopic(f"topic {topic!r} does not exist on {self.where()}")
        return spec

    def log(self, tp: TopicPartition) -> list[Message]:
        """The records of one partition; raises UnknownTopic or TransportError."""
        log = self.logs.get(tp)
        if log is None:
            self.spec(tp.topic)
            raise TransportError(f"topic {tp.topic!r} has no partition {tp.partition}")
        return log

    # -- groups ----------------------------------------------------------------------
    def group(self, group_id: str) -> Group:
        """The consumer group ``group_id``, made on first use."""
        with self.changed:
            group = self.groups.get(group_id)
            if group is None:
                group = self.groups[group_id] = Group(group_id)
            return group
