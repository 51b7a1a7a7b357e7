"""Producer over kafka-python's KafkaProducer: queue on send, metadata on flush."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from kafka import KafkaProducer, OffsetAndMetadata
from kafka import TopicPartition as KafkaTP
from kafka import errors as kerrors
from kafka.partitioner.default import DefaultPartitioner

from streamctl.transport.base import RecordMetadata, TopicPartition, check_many
from streamctl.transport.exceptions import BrokerUnavailable, TransportError, UnknownTopic
from streamctl.transport.kafka.errors import translate
from streamctl.transport.kafkashared import KafkaFamilyProducer, Record
from streamctl.transport.partitioner import key_hash

log = logging.getLogger("streamctl.transport.kafka")


class KafkaTransportProducer(KafkaFamilyProducer):
    """Records without a partition go where Kafka's murmur2 partitioner puts their key.

    A record kafka-python gives up on with a retriable error (the broker was away
    longer than ``delivery_timeout_ms``) is sent again by the next :meth:`flush`,
    which raises BrokerUnavailable meanwhile: the worker retries the flush, so an
    outage delays a batch and never drops part of it. A transactional producer
    never re-sends: a failed transaction is aborted and its batch replayed.
    """

    def __init__(
        self, producer: KafkaProducer, bootstrap: str, *, transactional: bool = False
    ) -> None:
        super().__init__(bootstrap, translate, transactional=transactional)
        self._producer = producer
        # (record, kafka-python FutureRecordMetadata), in send order
        self._pending: list[tuple[Record, Any]] = []

    def _queue(self, record: Record) -> None:
        self._pending.append((record, self._send(record)))

    def send_many(
        self,
        topic: str,
        keys: Sequence[bytes | None],
        values: Sequence[bytes | None],
        *,
        partition: int | None = None,
        timestamps: Sequence[int] | None = None,
    ) -> None:
        """As :meth:`send` per record, with the keyed records' partitions picked here for
        the whole batch: murmur2 of the key over all the topic's partitions, as
        kafka-python's default partitioner picks them, from streamctl's cached hashes
        (kafka-python hashes every record again in Python). A configured custom
        ``partitioner`` still picks each record's partition."""
        check_many(keys, values, timestamps)
        n = len(keys)
        if not n:
            return
        parts: Sequence[int | None] = [partition] * n
        if partition is None and type(self._producer.config["partitioner"]) is DefaultPartitioner:
            known = self._partitions(topic)
            count = len(known)
            parts = [None if k is None else known[key_hash(k) % count] for k in keys]
        stamps: Sequence[int | None] = [None] * n if timestamps is None else timestamps
        queue = self._queue
        for key, value, part, ts in zip(keys, values, parts, stamps):
            queue((topic, key, value, part, None, ts))

    def _partitions(self, topic: str) -> list[int]:
        try:
            return sorted(self._producer.partitions_for(topic))
        except kerrors.KafkaTimeoutError as exc:
            raise self._no_metadata(topic) from exc

    def _no_metadata(self, topic: str) -> UnknownTopic:
        # kafka-python waits max_block_ms for the topic's metadata, then gives up
        return UnknownTopic(
            f"send to {topic!r}: no metadata from Kafka at {self._bootstrap} "
            "(does the topic exist?)"
        )

    def _send(self, record: Record) -> Any:
        topic, key, value, partition, headers, timestamp = record
        try:
            return self._producer.send(
                topic,
                value=value,
                key=key,
                partition=partition,
                headers=headers,
                timestamp_ms=timestamp,
            )
        except kerrors.KafkaTimeoutError as exc:
            raise self._no_metadata(topic) from exc
        except (ValueError, AssertionError) as exc:  # e.g. "Unrecognized partition 5"
            raise TransportError(f"send to {topic!r}: {exc}") from exc
        except kerrors.KafkaError as exc:
            raise TransportError(f"send to {topic!r}: {exc}") from exc

    def flush(self) -> list[RecordMetadata]:
        # bounded, so an outage surfaces as BrokerUnavailable and the worker retries
        with translate(self._bootstrap, "flush"):
            self._producer.flush(timeout=self._producer.config["request_timeout_ms"] / 1000)
        failed = [(i, fut.exception) for i, (_, fut) in enumerate(self._pending) if fut.failed()]
        if failed:
            self._retry_or_raise(failed)
        pending, self._pending = self._pending, []
        out = []
        for _, future in pending:
            md = future.value
            out.append(RecordMetadata(md.topic, md.partition, md.offset))
        return out

    def _retry_or_raise(self, failed: list[tuple[int, Any]]) -> None:
        first = failed[0][1]
        if self._transactional or not getattr(first, "retriable", False):
            self._pending = []
            raise TransportError(
                f"flush: Kafka at {self._bootstrap} refused {len(failed)} record(s): "
                f"{type(first).__name__}: {first}"
            )
        # re-send in the original order (per partition order is kept: idempotent producer)
        for i, _ in failed:
            record = self._pending[i][0]
            self._pending[i] = (record, self._send(record))
        raise BrokerUnavailable(
            f"flush: {len(failed)} record(s) not delivered to Kafka at {self._bootstrap} "
            f"({type(first).__name__}); sending them again"
        )

    def discard(self) -> None:
        """Forget queued records' metadata.

        kafka-python cannot take records back out of its send buffer, so they
        may still reach Kafka (a duplicate under at-least-once). Only a Kafka
        transaction can truly drop them (:meth:`abort_transaction`).
        """
        self._pending = []

    # -- transactions (their steps: transport/kafkashared.py) --------------------------------
    def _begin(self) -> None:
        self._producer.begin_transaction()

    # kafka-python's send_offsets_to_transaction, commit_transaction and abort_transaction
    # wait for the broker without end; Kafka's Java producer bounds them by max.block.ms.
    # Here they are kafka-python's own steps with that bound, so an outage surfaces as
    # BrokerUnavailable and the worker's wait-and-resume path runs: the transaction is
    # aborted and replayed by a new producer (a commit that timed out may still complete
    # on the broker; the new producer's init waits for it, and the stores catch up).
    def _send_offsets(self, offsets: Mapping[TopicPartition, int], group: object) -> None:
        to_commit = {
            KafkaTP(tp[0], tp[1]): OffsetAndMetadata(off, "", -1) for tp, off in offsets.items()
        }
        manager = self._producer._transaction_manager
        self._wait(manager.send_offsets_to_transaction(to_commit, group), "sending the offsets")

    def _commit(self) -> None:
        self._wait(self._producer._transaction_manager.begin_commit(), "the commit")

    def _abort(self) -> None:
        self._wait(self._producer._transaction_manager.begin_abort(), "the abort")

    def _wait(self, result: Any, what: str) -> None:
        """Wake the sender and wait up to max_block_ms for ``result``; KafkaTimeoutError
        past it (raises the transaction's own error, e.g. ProducerFencedError)."""
        self._producer._sender.wakeup()
        limit = self._producer.config["max_block_ms"]
        if not result.wait(timeout_ms=limit):
            raise kerrors.KafkaTimeoutError(
                f"{what} had no answer within max_block_ms ({limit} ms)"
            )

    def _close(self) -> None:
        if not self._transactional:
            self._producer.close()
            return
        # a transactional producer holds nothing to deliver (an open transaction is
        # aborted by the broker, or by the next producer of its id); bounded, so a fenced
        # producer or an absent broker cannot hold the worker
        try:
            self._producer.close(timeout=5)
        except kerrors.KafkaTimeoutError:
            # batches of an aborted transaction the broker never took: kafka-python's close
            # raises from its flush instead of dropping them; drop them and close
            self._producer._sender.force_close()
            try:
                self._producer.close(timeout=5)
            except kerrors.KafkaError as exc:
                log.warning("closing a transactional producer: %s", exc)
