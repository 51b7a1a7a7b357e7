"""Consumer over kafka-python's KafkaConsumer, with explicit commits only."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from operator import itemgetter

from kafka import KafkaConsumer, OffsetAndMetadata
from kafka import TopicPartition as KafkaTP
from kafka.consumer.fetcher import ConsumerRecord

from streamctl.transport.base import Consumer, Message, RebalanceListener, TopicPartition
from streamctl.transport.exceptions import TransportError
from streamctl.transport.kafka.errors import translate
from streamctl.transport.kafka.rebalance import ListenerBridge
from streamctl.transport.kafka.records import install

# ConsumerRecord fields in Message's order: topic, partition, offset, key, value,
# timestamp, headers (looked up by name, so a kafka-python field reorder cannot mix them up).
_PICK = itemgetter(*(ConsumerRecord._fields.index(f) for f in Message._fields))
#: how long ``subscribe`` waits for the subscribed topics' partitions (seconds)
METADATA_WAIT = 5.0


def _ktps(tps: Iterable[TopicPartition]) -> list[KafkaTP]:
    return [KafkaTP(tp[0], tp[1]) for tp in tps]


class KafkaTransportConsumer(Consumer):
    def __init__(self, consumer: KafkaConsumer, group_id: str | None, bootstrap: str) -> None:
        self._consumer = consumer
        self._group_id = group_id
        self._bootstrap = bootstrap
        #: kafka-python's fetcher hands out Messages already (transport/kafka/records.py)
        self._messages = install(consumer)

    def assign(self, partitions: Iterable[TopicPartition]) -> None:
        with translate(self._bootstrap, "assign"):
            self._consumer.assign(_ktps(partitions))

    def subscribe(self, topics: Sequence[str], listener: RebalanceListener | None = None) -> None:
        if self._group_id is None:
            raise TransportError("subscribe needs a consumer group (group_id is None)")
        bridge = ListenerBridge(listener, self._consumer) if listener is not None else None
        with translate(self._bootstrap, "subscribe"):
            self._consumer.subscribe(list(topics), listener=bridge)
        self._await_partitions(topics)

    def _await_partitions(self, topics: Sequence[str], timeout: float = METADATA_WAIT) -> None:
        """Wait (at most ``timeout`` seconds) until this consumer's metadata has the
        partitions of ``topics``, so its first JoinGroup assigns them.

        kafka-python asks for the metadata of newly subscribed topics only after
        ``retry_backoff_ms`` (100 ms) while the first join takes less: the group leader
        then assigns nothing and the group rebalances again once the metadata arrives,
        on every start. A topic that does not exist is waited for up to ``timeout``,
        then the consumer goes on (its partitions are assigned when they appear).
        """
        cluster = getattr(self._consumer, "_cluster", None)  # no public handle exists
        if cluster is None:
            return
        deadline = time.monotonic() + timeout
        while any(cluster.partitions_for_topic(t) is None for t in topics):
            if time.monotonic() >= deadline:
                return
            time.sleep(0.01)

    def assignment(self) -> set[TopicPartition]:
        return {TopicPartition(tp.topic, tp.partition) for tp in self._consumer.assignment()}

    def poll(self, max_records: int = 1000, timeout: float = 0.0) -> list[Message]:
        with translate(self._bootstrap, "poll"):
            batches = self._consumer.poll(timeout_ms=int(timeout * 1000), max_records=max_records)
        if not batches:
            return []
        out: list[Message] = []
        if self._messages:
            for messages in batches.values():
                out += messages
            return out
        # Hot path: ConsumerRecord is a namedtuple too, so one C-level itemgetter
        # call picks Message's fields in Message's order (headers are already a
        # list of (str, bytes)), and tuple.__new__ skips NamedTuple.__new__.
        new, pick = tuple.__new__, _PICK
        for records in batches.values():
            out += [new(Message, pick(r)) for r in records]
        return out

    def seek(self, tp: TopicPartition, offset: int) -> None:
        with translate(self._bootstrap, "seek"):
            self._consumer.seek(KafkaTP(tp[0], tp[1]), offset)

    def position(self, tp: TopicPartition) -> int:
        with translate(self._bootstrap, "position"):
            return int(self._consumer.position(KafkaTP(tp[0], tp[1])))

    def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        if self._group_id is None:
            raise TransportError("commit needs a consumer group (group_id is None)")
        if not offsets:
            return
        to_commit = {
            KafkaTP(tp[0], tp[1]): OffsetAndMetadata(off, "", -1) for tp, off in offsets.items()
        }
        # bounded: during an outage kafka-python would retry forever; the worker retries us
        with translate(self._bootstrap, "commit"):
            self._consumer.commit(to_commit, timeout_ms=self._consumer.config["request_timeout_ms"])

    def committed(self, tp: TopicPartition) -> int | None:
        if self._group_id is None:
            return None
        # bounded: kafka-python would wait for the group coordinator without end
        with translate(self._bootstrap, "committed"):
            return self._consumer.committed(
                KafkaTP(tp[0], tp[1]), timeout_ms=self._consumer.config["request_timeout_ms"]
            )

    def end_offsets(self, tps: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        with translate(self._bootstrap, "end_offsets"):
            found = self._consumer.end_offsets(_ktps(tps))
        return {TopicPartition(tp.topic, tp.partition): off for tp, off in found.items()}

    def beginning_offsets(self, tps: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        with translate(self._bootstrap, "beginning_offsets"):
            found = self._consumer.beginning_offsets(_ktps(tps))
        return {TopicPartition(tp.topic, tp.partition): off for tp, off in found.items()}

    def group_metadata(self) -> object:
        """kafka-python's group snapshot, for ``send_offsets_to_transaction`` (KIP-447 fencing)."""
        return self._consumer.group_metadata()

    def close(self) -> None:
        self._consumer.close(autocommit=False)
