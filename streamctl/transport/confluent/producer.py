"""Producer over confluent-kafka's Producer: queue on send, metadata on flush."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka import Producer as CKProducer
from confluent_kafka import TopicPartition as CKTP

from streamctl.transport.base import RecordMetadata, TopicPartition, check_many
from streamctl.transport.confluent.errors import UNKNOWN_TOPIC, error_of, translate
from streamctl.transport.exceptions import BrokerUnavailable, TransportError, UnknownTopic
from streamctl.transport.kafkashared import KafkaFamilyProducer, Record, log


def _delivered(slot: list[Any], err: KafkaError | None, msg: Any) -> None:
    """librdkafka's delivery report for one record (called from ``flush``/``poll``)."""
    slot[1] = err if err is not None else (msg.topic(), msg.partition(), msg.offset())


class ConfluentTransportProducer(KafkaFamilyProducer):
    """As the kafka transport's producer (``transport/kafka/producer.py``): a record
    librdkafka gives up on with a retriable error is sent again by the next
    :meth:`flush`, which raises BrokerUnavailable meanwhile; a transactional producer
    never re-sends (its batch is aborted and replayed)."""

    def __init__(
        self,
        producer: CKProducer,
        bootstrap: str,
        timeout: float,
        *,
        transactional: bool = False,
    ) -> None:
        super().__init__(bootstrap, translate, transactional=transactional)
        self._producer = producer
        self._timeout = timeout
        # [record, None | KafkaError | (topic, partition, offset)], in send order
        self._pending: list[list[Any]] = []

    def _queue(self, record: Record) -> None:
        slot: list[Any] = [record, None]
        self._produce(slot)
        self._pending.append(slot)

    def send_many(
        self,
        topic: str,
        keys: Sequence[bytes | None],
        values: Sequence[bytes | None],
        *,
        partition: int | None = None,
        timestamps: Sequence[int] | None = None,
    ) -> None:
        """One ``produce`` call per record straight into librdkafka's queue (no per-record
        keyword dict nor method layers); a full queue or a refused record takes
        :meth:`send`'s path for that record. A bad partition is refused by librdkafka
        at the first record, before any record of the call is queued. A timestamp of 0
        is "now" (librdkafka's meaning), as no timestamps are."""
        check_many(keys, values, timestamps)
        produce, pending, delivered = self._producer.produce, self._pending, _delivered
        stamps: Sequence[int] = timestamps if timestamps is not None else [0] * len(keys)
        part = -1 if partition is None else partition  # librdkafka's "use the partitioner"
        for key, value, ts in zip(keys, values, stamps):
            slot: list[Any] = [(topic, key, value, partition, None, ts or None), None]
            try:
                produce(topic, value, key, part, on_delivery=partial(delivered, slot), timestamp=ts)
            except (BufferError, KafkaException):
                self._produce(slot)  # waits for room, or raises the streamctl error
            pending.append(slot)

    def _produce(self, slot: list[Any]) -> None:
        topic, key, value, partition, headers, timestamp = slot[0]
        args: dict[str, Any] = {"on_delivery": partial(_delivered, slot)}
        if partition is not None:
            args["partition"] = partition
        if headers:
            args["headers"] = headers
        if timestamp is not None:
            args["timestamp"] = timestamp
        deadline = None
        while True:
            try:
                self._producer.produce(topic, value, key, **args)
                return
            except BufferError:  # librdkafka's local queue is full: deliver some first
                deadline = deadline or time.monotonic() + self._timeout
                if time.monotonic() > deadline:
                    raise BrokerUnavailable(
                        f"send to {topic!r}: Kafka at {self._bootstrap} takes no records"
                    ) from None
                self._producer.poll(0.1)
            except KafkaException as exc:
                err = exc.args[0]
                if err.code() in UNKNOWN_TOPIC:
                    raise UnknownTopic(
                        f"send to {topic!r}: unknown topic or partition {partition} "
                        f"on Kafka at {self._bootstrap}"
                    ) from exc
                raise error_of(err, f"send to {topic!r}", self._bootstrap) from exc

    def flush(self) -> list[RecordMetadata]:
        if not self._pending:
            self._producer.poll(0)
            return []
        # bounded, so an outage surfaces as BrokerUnavailable and the worker retries
        left = self._producer.flush(self._timeout)
        if left:
            raise BrokerUnavailable(
                f"flush: {left} record(s) not delivered to Kafka at {self._bootstrap} "
                f"in {self._timeout:.0f}s; still sending them"
            )
        failed = [i for i, slot in enumerate(self._pending) if isinstance(slot[1], KafkaError)]
        if failed:
            self._retry_or_raise(failed)
        pending, self._pending = self._pending, []
        return [RecordMetadata(*slot[1]) for slot in pending]

    def _retry_or_raise(self, failed: list[int]) -> None:
        first: KafkaError = self._pending[failed[0]][1]
        if self._transactional or not first.retriable():
            self._pending = []
            what = "partition" if first.code() in UNKNOWN_TOPIC else "record"
            raise TransportError(
                f"flush: Kafka at {self._bootstrap} refused {len(failed)} record(s) "
                f"({what}): {first.name()}: {first.str()}"
            )
        for i in failed:  # again, in the original order
            slot = self._pending[i]
            slot[1] = None
            self._produce(slot)
        raise BrokerUnavailable(
            f"flush: {len(failed)} record(s) not delivered to Kafka at {self._bootstrap} "
            f"({first.name()}); sending them again"
        )

    def discard(self) -> None:
        """Forget queued records; those not handed to the broker yet are purged from
        librdkafka's queue (records already in flight may still arrive under
        at-least-once; only :meth:`abort_transaction` truly drops them)."""
        self._pending = []
        try:
            self._producer.purge(in_queue=True, in_flight=False, blocking=True)
        except KafkaException as exc:
            log.debug("purge: %s", exc)
        self._producer.poll(0)  # the purged records' reports, to nobody

    # -- transactions (their steps: transport/kafkashared.py) --------------------------------
    def _begin(self) -> None:
        self._producer.begin_transaction()

    def _send_offsets(self, offsets: Mapping[TopicPartition, int], group: object) -> None:
        self._producer.send_offsets_to_transaction(
            [CKTP(tp[0], tp[1], off) for tp, off in offsets.items()], group, self._timeout
        )

    def _commit(self) -> None:
        self._producer.commit_transaction(self._timeout)

    def _abort(self) -> None:
        self._producer.abort_transaction(self._timeout)

    def _close(self) -> None:
        # bounded: a transactional producer holds nothing to deliver
        self._producer.flush(0 if self._transactional else 5)
