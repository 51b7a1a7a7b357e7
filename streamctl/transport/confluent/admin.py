"""Group and topic administration on Kafka through confluent-kafka's AdminClient.

The same behaviour as ``transport/kafka/admin.py`` (kafka-consumer-groups.sh and
kafka-topics.sh as transport methods), on librdkafka's admin API.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaError, KafkaException
from confluent_kafka import TopicPartition as CKTP
from confluent_kafka.admin import AdminClient, OffsetSpec

from streamctl.transport.base import GroupInfo, GroupMember, TopicPartition
from streamctl.transport.confluent.errors import REBALANCED, error_of
from streamctl.transport.exceptions import (
    BrokerUnavailable,
    GroupNotEmpty,
    TransportError,
    UnknownTopic,
)
from streamctl.transport.kafkashared import refuse_members

#: how long delete_topics waits for the controller to forget the topics (seconds)
DELETE_WAIT = 30.0
#: errors of a partition whose leader is being elected (retried until the timeout)
log = logging.getLogger("streamctl.transport.confluent")
LEADERLESS = frozenset(
    {
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError.LEADER_NOT_AVAILABLE,
        # a broker restarted: its partitions' leader epochs moved on, and librdkafka's
        # admin client asks with the epoch it cached until its metadata is refreshed
        KafkaError.FENCED_LEADER_EPOCH,
        KafkaError.UNKNOWN_LEADER_EPOCH,
        # "Failed to query partition leaders: No leaders found": the broker is away
        KafkaError._NOENT,
    }
)
#: librdkafka's group states by Kafka's names
STATES = {
    "STABLE": "Stable",
    "EMPTY": "Empty",
    "DEAD": "Dead",
    "PREPARING_REBALANCING": "PreparingRebalance",
    "COMPLETING_REBALANCING": "CompletingRebalance",
    "UNKNOWN": "Unknown",
}


def wait(future: Any, what: str, bootstrap: str, timeout: float) -> Any:
    """A future's result in ``timeout`` seconds, or BrokerUnavailable (the future's own
    TimeoutError would escape the worker's wait-for-the-broker path as a traceback);
    its KafkaException as it is, for the caller to read."""
    try:
        return future.result(timeout=timeout)
    except FutureTimeout:
        raise BrokerUnavailable(
            f"{what}: no answer from Kafka at {bootstrap} in {timeout:.0f}s"
        ) from None


def result(future: Any, what: str, bootstrap: str, timeout: float) -> Any:
    """A future's result; its librdkafka error as a streamctl one."""
    try:
        return wait(future, what, bootstrap, timeout)
    except KafkaException as exc:
        raise error_of(exc.args[0], what, bootstrap) from exc


def _member(m: Any) -> GroupMember:
    parts = frozenset(
        TopicPartition(tp.topic, tp.partition) for tp in m.assignment.topic_partitions or ()
    )
    return GroupMember(
        str(m.member_id),
        str(m.host or "").lstrip("/"),
        str(m.client_id or ""),
        parts,
        frozenset(tp.topic for tp in parts),
    )


class ConfluentAdmin:
    """The admin methods of :class:`ConfluentTransport`, over one AdminClient."""

    def __init__(self, admin: AdminClient, bootstrap: str, timeout: float) -> None:
        self.admin = admin
        self.bootstrap = bootstrap
        self.timeout = timeout

    def _result(self, future: Any, what: str) -> Any:
        return result(future, what, self.bootstrap, self.timeout)

    def topics(self) -> set[str]:
        try:
            meta = self.admin.list_topics(timeout=self.timeout)
        except KafkaException as exc:
            raise error_of(exc.args[0], "list topics", self.bootstrap) from exc
        return set(meta.topics)

    def describe_groups(self, group_ids: list[str]) -> list[GroupInfo]:
        if not group_ids:
            return []
        out = []
        for gid, future in self.admin.describe_consumer_groups(group_ids).items():
            try:
                found = wait(future, "describe consumer groups", self.bootstrap, self.timeout)
            except KafkaException as exc:
                if exc.args[0].code() == KafkaError.GROUP_ID_NOT_FOUND:
                    out.append(GroupInfo(gid, "Dead"))
                    continue
                raise error_of(exc.args[0], "describe consumer groups", self.bootstrap) from exc
            state = STATES.get(found.state.name, found.state.name.title())
            out.append(GroupInfo(gid, state, tuple(_member(m) for m in found.members)))
        return out

    def list_groups(self) -> list[GroupInfo]:
        listed = self._result(self.admin.list_consumer_groups(), "list consumer groups")
        return self.describe_groups(sorted({g.group_id for g in listed.valid}))

    def group_offsets(self, group_id: str) -> dict[TopicPartition, int]:
        futures = self.admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group_id)])
        try:
            found = wait(futures[group_id], "read group offsets", self.bootstrap, self.timeout)
        except KafkaException as exc:
            if exc.args[0].code() == KafkaError.GROUP_ID_NOT_FOUND:
                return {}
            raise error_of(exc.args[0], "read group offsets", self.bootstrap) from exc
        return {
            TopicPartition(tp.topic, tp.partition): int(tp.offset)
            for tp in found.topic_partitions or ()
            if tp.offset >= 0
        }

    def alter_group_offsets(self, group_id: str, offsets: Mapping[TopicPartition, int]) -> None:
        """Refuse a group with members, then commit every offset in one request."""
        refuse_members(self.describe_groups([group_id])[0])
        if not offsets:
            return
        topics = self.topics()
        for tp in offsets:
            if tp.topic not in topics:
                raise UnknownTopic(
                    f"topic {tp.topic!r} does not exist on Kafka at {self.bootstrap}"
                )
        request = ConsumerGroupTopicPartitions(
            group_id, [CKTP(tp.topic, tp.partition, off) for tp, off in offsets.items()]
        )
        try:
            future = self.admin.alter_consumer_group_offsets([request])[group_id]
            done = wait(future, "alter group offsets", self.bootstrap, self.timeout)
        except KafkaException as exc:
            if exc.args[0].code() in REBALANCED:
                raise GroupNotEmpty(
                    f"consumer group {group_id!r} gained a member while its offsets were "
                    "reset: stop its workers and try again"
                ) from exc
            raise error_of(exc.args[0], "alter group offsets", self.bootstrap) from exc
        for tp in done.topic_partitions or ():
            if tp.error is not None:
                raise TransportError(
                    f"reset offsets of group {group_id!r} on Kafka at {self.bootstrap}: "
                    f"{tp.topic}[{tp.partition}] failed: {tp.error.str()}"
                )

    def list_offsets(
        self, specs: Mapping[TopicPartition, Any], isolation: str = "read_uncommitted"
    ) -> dict[TopicPartition, int]:
        """ListOffsets: per partition the offset for its OffsetSpec (-1: none)."""
        from confluent_kafka import IsolationLevel

        if not specs:
            return {}
        level = (
            IsolationLevel.READ_COMMITTED
            if isolation == "read_committed"
            else IsolationLevel.READ_UNCOMMITTED
        )
        out: dict[TopicPartition, int] = {}
        pending = dict(specs)
        deadline = time.monotonic() + self.timeout
        while pending:
            futures = self.admin.list_offsets(
                {CKTP(tp[0], tp[1]): spec for tp, spec in pending.items()},
                isolation_level=level,
                request_timeout=self.timeout,
            )
            retry = {}
            for ck, future in futures.items():
                tp = TopicPartition(ck.topic, ck.partition)
                try:
                    found = wait(future, "list offsets", self.bootstrap, self.timeout)
                except KafkaException as exc:
                    # a partition just created (or moved) has no leader for a moment:
                    # Kafka's clients retry NOT_LEADER / LEADER_NOT_AVAILABLE
                    err = exc.args[0]
                    if err.code() in LEADERLESS and time.monotonic() < deadline:
                        retry[tp] = pending[tp]
                        continue
                    if err.code() in LEADERLESS:  # still none: a broker away, for the worker
                        raise BrokerUnavailable(
                            f"list offsets: no leader for {tp.topic}[{tp.partition}] on Kafka "
                            f"at {self.bootstrap} ({err.str()})"
                        ) from exc
                    raise error_of(err, "list offsets", self.bootstrap) from exc
                out[tp] = int(found.offset)
            pending = retry
            if pending:
                time.sleep(0.1)
                self._refresh({tp.topic for tp in pending})
        return out

    def _refresh(self, topics: set[str]) -> None:
        """Fetch the topics' metadata again (leaders and their epochs), bounded."""
        for topic in topics:
            try:
                self.admin.list_topics(topic=topic, timeout=self.timeout)
            except KafkaException as exc:
                log.debug("metadata of %s: %s", topic, exc)

    def offsets_at(
        self, tps: Iterable[TopicPartition], which: str, isolation: str
    ) -> dict[TopicPartition, int]:
        spec = OffsetSpec.earliest() if which == "earliest" else OffsetSpec.latest()
        wanted = [TopicPartition(tp[0], tp[1]) for tp in tps]
        return self.list_offsets(dict.fromkeys(wanted, spec), isolation)

    def offsets_for_times(
        self, timestamps: Mapping[TopicPartition, int]
    ) -> dict[TopicPartition, int | None]:
        found = self.list_offsets(
            {tp: OffsetSpec.for_timestamp(int(ts)) for tp, ts in timestamps.items()}
        )
        return {tp: (None if found[tp] < 0 else found[tp]) for tp in timestamps}

    def delete_topics(self, names: Iterable[str]) -> None:
        """Delete the topics, then wait until the cluster no longer lists them."""
        names = list(names)
        existing = self.topics()
        missing = [n for n in names if n not in existing]
        if missing:
            raise UnknownTopic(f"topic {missing[0]!r} does not exist on Kafka at {self.bootstrap}")
        for future in self.admin.delete_topics(names, operation_timeout=self.timeout).values():
            self._result(future, "delete topics")
        deadline = time.monotonic() + DELETE_WAIT
        while set(names) & self.topics():
            if time.monotonic() > deadline:
                raise TransportError(
                    f"Kafka at {self.bootstrap} accepted the deletion of {', '.join(names)} "
                    f"but still lists them after {DELETE_WAIT:.0f}s"
                )
            time.sleep(0.2)
