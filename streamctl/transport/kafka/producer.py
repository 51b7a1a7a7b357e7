"""Producer over kafka-python's KafkaProducer: queue on send, metadata on flush."""

from __future__ import annotations

from typing import Any

from kafka import KafkaProducer
from kafka import errors as kerrors

from streamctl.transport.base import Headers, Producer, RecordMetadata
from streamctl.transport.exceptions import TransportError, UnknownTopic
from streamctl.transport.kafka.errors import translate


class KafkaTransportProducer(Producer):
    """Records without a partition go where Kafka's murmur2 partitioner puts their key."""

    def __init__(self, producer: KafkaProducer, bootstrap: str) -> None:
        self._producer = producer
        self._bootstrap = bootstrap
        self._pending: list[Any] = []  # kafka-python FutureRecordMetadata, in send order

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
        try:
            future = self._producer.send(
                topic,
                value=value,
                key=key,
                partition=partition,
                headers=headers,
                timestamp_ms=timestamp,
            )
        except kerrors.KafkaTimeoutError as exc:
            # kafka-python waits max_block_ms for the topic's metadata, then gives up.
            raise UnknownTopic(
                f"send to {topic!r}: no metadata from Kafka at {self._bootstrap} "
                "(does the topic exist?)"
            ) from exc
        except (ValueError, AssertionError) as exc:  # e.g. "Unrecognized partition 5"
            raise TransportError(f"send to {topic!r}: {exc}") from exc
        self._pending.append(future)

    def flush(self) -> list[RecordMetadata]:
        pending, self._pending = self._pending, []
        with translate(self._bootstrap, "flush"):
            self._producer.flush()
            out = []
            for future in pending:
                md = future.get()
                out.append(RecordMetadata(md.topic, md.partition, md.offset))
        return out

    def discard(self) -> None:
        """Forget queued records' metadata.

        kafka-python cannot take records back out of its send buffer, so they
        may still reach Kafka (a duplicate under at-least-once). Only a Kafka
        transaction can truly drop them; that is the exactly-once option.
        """
        self._pending = []

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._producer.close()
