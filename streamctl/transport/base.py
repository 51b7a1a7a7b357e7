"""The transport seam: what the engine needs from a broker, and nothing more.

A transport hands out producers, consumers and an admin view over one broker.
Implementations: ``local`` (the embedded SQLite log), ``kafka`` (kafka-python) and
``memory`` (in this process, for tests: :mod:`streamctl.testing`). All must pass
``tests/transport/test_transport_contract.py`` and, for the group and topic
administration methods, ``tests/transport/test_transport_admin_contract.py``.

Offsets follow Kafka: the offset of a record is its position in its partition;
a committed offset is the offset of the *next* record to read; the end offset
(high-water mark) is one past the last record.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple

from streamctl.exceptions import ConfigurationError

#: the most partitions a topic may have (Kafka's own practical limit is far lower per topic)
MAX_PARTITIONS = 10_000

Headers = list[tuple[str, bytes]]


class TopicPartition(NamedTuple):
    topic: str
    partition: int


class Message(NamedTuple):
    """One record read from a partition (a tuple: cheap to make, fields by name)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: int  # milliseconds since the epoch
    headers: Sequence[tuple[str, bytes]] = ()

    @property
    def tp(self) -> TopicPartition:
        return TopicPartition(self.topic, self.partition)

    @property
    def timestamp_ms(self) -> int:
        """The timestamp in milliseconds, also on an event's message (whose
        ``timestamp`` is Faust's float seconds: :class:`streamctl.events.EventMessage`)."""
        return self[5]


class RecordMetadata(NamedTuple):
    """Where a produced record was written."""

    topic: str
    partition: int
    offset: int


@dataclass(slots=True, frozen=True)
class TopicSpec:
    """A topic as declared by an app: name, partition count, compaction."""

    name: str
    partitions: int = 1
    compacting: bool = False
    config: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # every topic is created from a spec: one bound for the CLI, pipelines and the API
        # (a count of 99,999,999 made the embedded broker write rows for minutes)
        if isinstance(self.partitions, bool) or not 1 <= self.partitions <= MAX_PARTITIONS:
            raise ConfigurationError(
                f"topic {self.name!r}: partitions must be a whole number from 1 to "
                f"{MAX_PARTITIONS:,}, not {self.partitions!r}"
            )


@dataclass(slots=True, frozen=True)
class GroupMember:
    """A live member of a consumer group: its id, host and the partitions it holds.

    ``partitions`` is empty when the broker does not say (the embedded broker's one
    member reads every partition of the topics it subscribed to).
    """

    member_id: str
    host: str = ""
    client_id: str = ""
    partitions: frozenset[TopicPartition] = frozenset()
    #: the topics it subscribed to, when the broker says
    topics: frozenset[str] = frozenset()
    #: what the member announced to its group (``Transport.announce``), "" for nothing
    announced: str = ""

    def __str__(self) -> str:
        return f"{self.member_id} on {self.host}" if self.host else self.member_id


@dataclass(slots=True, frozen=True)
class GroupInfo:
    """A consumer group as ``kafka-consumer-groups.sh --describe --state`` shows it.

    ``state`` uses Kafka's names: ``Stable`` (members consuming), ``Empty`` (no
    member; offsets kept), ``PreparingRebalance``/``CompletingRebalance`` (members
    joining), ``Dead`` (unknown to the broker).
    """

    group_id: str
    state: str
    members: tuple[GroupMember, ...] = ()


def check_many(
    keys: Sequence[bytes | None],
    values: Sequence[bytes | None],
    timestamps: Sequence[int] | None,
) -> None:
    """Raise ValueError unless ``keys``, ``values`` (and ``timestamps``) are as long."""
    n = len(keys)
    if len(values) != n or (timestamps is not None and len(timestamps) != n):
        raise ValueError(
            f"send_many: {n} keys, {len(values)} values"
            + ("" if timestamps is None else f", {len(timestamps)} timestamps")
            + ": one of each per record"
        )


class Producer(abc.ABC):
    @abc.abstractmethod
    def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        *,
        partition: int | None = None,
        headers: Headers | None = None,
        timestamp: int | None = None,
    ) -> None:
        """Queue one record. Without ``partition`` the key picks it (murmur2, as Kafka)."""

    def send_many(
        self,
        topic: str,
        keys: Sequence[bytes | None],
        values: Sequence[bytes | None],
        *,
        partition: int | None = None,
        timestamps: Sequence[int] | None = None,
    ) -> None:
        """Queue ``len(keys)`` records for one topic, in order: the same as calling
        :meth:`send` with each ``(keys[i], values[i], timestamps[i])``.

        The engine hands a batch's outputs and changelog records over this way, once
        per topic (and partition), so a producer may queue them in bulk. ``timestamps``
        are milliseconds since the epoch (None: now, for every record); without
        ``partition`` each key picks its own (murmur2, as Kafka). Raises ValueError
        when the sequences differ in length, and what :meth:`send` raises for a bad
        topic or partition, before any record is queued. This default calls
        :meth:`send` per record; the built-in transports queue in bulk.
        """
        check_many(keys, values, timestamps)
        send = self.send
        if timestamps is None:
            for key, value in zip(keys, values):
                send(topic, key, value, partition=partition)
        else:
            for key, value, ts in zip(keys, values, timestamps):
                send(topic, key, value, partition=partition, timestamp=ts)

    @abc.abstractmethod
    def flush(self) -> list[RecordMetadata]:
        """Write every queued record; return their metadata in send order."""

    @property
    @abc.abstractmethod
    def pending(self) -> int:
        """How many records were sent and not flushed yet."""

    @abc.abstractmethod
    def discard(self) -> None:
        """Drop records queued but not flushed yet (a failed batch is replayed, not half-sent)."""

    # -- transactions (``processing_guarantee: exactly_once``; only transactional producers) --
    def begin_transaction(self) -> None:
        """Start a transaction: records sent from now on are atomic with the offsets below."""
        raise NotImplementedError(f"{type(self).__name__} has no transactions")

    def commit_transaction(
        self, offsets: Mapping[TopicPartition, int], consumer: Consumer | None = None
    ) -> None:
        """Flush, add ``consumer``'s group ``offsets`` to the transaction and commit it.

        The group is named by ``consumer.group_metadata()`` (see :class:`Consumer`).
        With no ``offsets`` no consumer is needed (a producer's own transaction, as
        ``streamctl send --file`` on Kafka makes).
        """
        raise NotImplementedError(f"{type(self).__name__} has no transactions")

    def abort_transaction(self) -> None:
        """Abort the open transaction: its records are never seen by committed readers."""
        raise NotImplementedError(f"{type(self).__name__} has no transactions")

    def close(self) -> None:
        """Flush queued records, then release resources (the default only flushes)."""
        self.flush()


class RebalanceListener:
    """Told by a consumer when its partitions change (called from ``poll``)."""

    def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        """Finish and commit work on these partitions; they are about to go."""

    def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        """Recover state for these partitions before their first record is returned."""


class Consumer(abc.ABC):
    """A consumer in a group. Position starts at the committed offset, else earliest."""

    @abc.abstractmethod
    def assign(self, partitions: Iterable[TopicPartition]) -> None:
        """Read exactly these partitions (no group management)."""

    @abc.abstractmethod
    def subscribe(self, topics: Sequence[str], listener: RebalanceListener | None = None) -> None:
        """Read these topics; the group decides which partitions this member gets.

        ``listener`` is told, from inside ``poll``, which partitions are revoked
        (before they go) and which are assigned (before their first record).
        """

    @abc.abstractmethod
    def assignment(self) -> set[TopicPartition]: ...

    @abc.abstractmethod
    def poll(self, max_records: int = 1000, timeout: float = 0.0) -> list[Message]:
        """Return up to ``max_records`` records, in offset order per partition."""

    @abc.abstractmethod
    def seek(self, tp: TopicPartition, offset: int) -> None: ...

    @abc.abstractmethod
    def position(self, tp: TopicPartition) -> int: ...

    @abc.abstractmethod
    def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        """Commit the offsets of the next records to read, for this group."""

    @abc.abstractmethod
    def committed(self, tp: TopicPartition) -> int | None: ...

    @abc.abstractmethod
    def end_offsets(self, tps: Iterable[TopicPartition]) -> dict[TopicPartition, int]: ...

    def beginning_offsets(self, tps: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: 0 for tp in tps}

    # -- exactly-once (only consumers whose transport has transactional producers) --
    def group_metadata(self) -> object:
        """This member's group identity, for :meth:`Producer.commit_transaction`.

        An opaque value that only a producer of the same transport reads (on Kafka:
        the group id, generation and member id, so a zombie member is fenced,
        KIP-447). Transports without transactions raise NotImplementedError.
        """
        raise NotImplementedError(
            f"{type(self).__name__} cannot commit offsets in a transaction (no transactions)"
        )

    @abc.abstractmethod
    def close(self) -> None:
        """Leave the group and release resources (does not commit)."""


class Transport(abc.ABC):
    """One broker connection factory, built from a URL such as ``local://``."""

    scheme: str = ""
    #: False for a broker that lives in one process (``memory://``): what one command
    #: writes to it is gone when the command exits, so the CLI refuses it
    durable: bool = True
    #: True when ``producer(transactional_id=...)`` works (``processing_guarantee:
    #: exactly_once``); ``streamctl validate`` asks this instead of opening the broker
    supports_transactions: ClassVar[bool] = False
    #: True when a consumer group's members all run on this machine, on this data dir
    #: (the embedded broker): their stores are the ones ``streamctl table`` reads. False
    #: for Kafka, whose members may run anywhere, each with a data dir of its own
    members_share_datadir: ClassVar[bool] = True

    @classmethod
    def setting_names(cls) -> frozenset[str] | None:
        """The broker settings this transport takes, or None when it takes any (unchecked)."""
        return None

    @classmethod
    def check_setting_values(cls, settings: Mapping[str, Any]) -> dict[str, str]:
        """Broker setting name -> why its value is refused (one line), for the settings
        this transport checks itself; the constructor raises ConfigurationError for the
        first one, and ``streamctl validate`` reports each with its position. Names it
        does not take are :meth:`setting_names`' business. None refused by default."""
        return {}

    @classmethod
    def check_url(cls, url: str) -> str | None:
        """Why this transport cannot open ``url`` (a one-line reason), or None when it can."""
        return None

    @abc.abstractmethod
    def producer(self, *, transactional_id: str | None = None) -> Producer:
        """A producer; with ``transactional_id``, a transactional one (exactly-once).

        Transports without transactions raise ConfigurationError for a transactional_id.
        """

    @abc.abstractmethod
    def consumer(self, group_id: str | None) -> Consumer: ...

    @abc.abstractmethod
    def create_topics(self, specs: Iterable[TopicSpec]) -> None:
        """Create the topics that do not exist yet; existing ones are left alone."""

    @abc.abstractmethod
    def list_topics(self) -> dict[str, TopicSpec]: ...

    def announce(self, info: str) -> None:
        """Announce ``info`` (text) to the groups this transport's consumers join, so
        other processes read it in ``describe_group`` (``GroupMember.announced``): Kafka
        carries it in the consumer-group member metadata. Transports without a group
        protocol ignore it (the default)."""
        return None

    def group_members(self, group_id: str) -> list[str] | None:
        """The live members of a consumer group (e.g. ``"pid 123 on host"``); None if unknown.

        Used to refuse writes that only a stopped app may take (``streamctl table set``).
        By default the members ``describe_group`` lists (both Kafka transports); None
        for a transport that cannot describe groups.
        """
        if type(self).describe_group is Transport.describe_group:
            return None
        return [str(m) for m in self.describe_group(group_id).members]

    # -- group and topic administration (``streamctl group``, ``streamctl topic create``) --
    # Defaults raise TransportError, so a plugin transport without them still runs apps.
    def list_groups(self) -> list[GroupInfo]:
        """Every consumer group the broker knows (with committed offsets or members)."""
        raise self._unsupported("list consumer groups")

    def describe_group(self, group_id: str) -> GroupInfo:
        """One group's state and live members; state ``Dead`` for a group the broker lacks."""
        raise self._unsupported("describe consumer groups")

    def group_offsets(self, group_id: str) -> dict[TopicPartition, int]:
        """The group's committed offsets, read without joining it ({} for an unknown group)."""
        raise self._unsupported("read a group's offsets")

    def alter_group_offsets(self, group_id: str, offsets: Mapping[TopicPartition, int]) -> None:
        """Commit ``offsets`` for the group from outside it, all or none.

        Only a group without live members may be altered (as Kafka's
        ``AlterConsumerGroupOffsets``): raises GroupNotEmpty otherwise, and
        UnknownTopic for a partition the broker does not have.
        """
        raise self._unsupported("alter a group's offsets")

    def offsets_for_times(
        self, timestamps: Mapping[TopicPartition, int]
    ) -> dict[TopicPartition, int | None]:
        """Per partition, the earliest offset whose record timestamp is >= the given one
        (milliseconds since the epoch); None when no record is that late (Kafka's
        ``offsetsForTimes``, ListOffsets by timestamp)."""
        raise self._unsupported("look up offsets by time")

    def delete_topics(self, names: Iterable[str]) -> None:
        """Delete topics with their records and the groups' offsets on them; returns once
        they are gone (a topic may be created again by that name). UnknownTopic if one is
        missing, and then none is deleted."""
        raise self._unsupported("delete topics")

    def _unsupported(self, what: str) -> Exception:
        from streamctl.transport.exceptions import TransportError

        return TransportError(f"the {self.scheme or type(self).__name__} transport cannot {what}")

    @abc.abstractmethod
    def close(self) -> None:
        """Release resources."""
