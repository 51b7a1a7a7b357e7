"""Producer of the in-memory broker: queue on send, append to the partition lists on flush."""

from __future__ import annotations

import time
from collections.abc import Sequence

from streamctl.transport.base import (
    Headers,
    Message,
    Producer,
    RecordMetadata,
    TopicPartition,
    check_many,
)
from streamctl.transport.exceptions import TransportError
from streamctl.transport.memory.broker import MemoryBroker
from streamctl.transport.partitioner import partition_for, partitions_for

# topic, partition, key, value, timestamp (ms), headers
_Queued = tuple[str, int, bytes | None, bytes | None, int, tuple[tuple[str, bytes], ...]]


class MemoryProducer(Producer):
    """Records go where the key sends them (murmur2, as Kafka) unless given a partition.

    A bad topic or partition is refused by ``send`` (as Kafka's client does); a
    record without a key for a compacted topic by ``flush``, which then appends
    nothing of the batch.
    """

    def __init__(self, broker: MemoryBroker) -> None:
        self._broker = broker
        self._queue: list[_Queued] = []

    @property
    def pending(self) -> int:
        return len(self._queue)

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
        parts = self._broker.spec(topic).partitions
        if partition is None:
            partition = partition_for(key, parts)
        elif not 0 <= partition < parts:
            raise TransportError(f"topic {topic!r} has no partition {partition}")
        self._queue.append(
            (
                topic,
                partition,
                key,
                value,
                timestamp if timestamp is not None else int(time.time() * 1000),
                tuple(headers) if headers else (),
            )
        )

    def send_many(
        self,
        topic: str,
        keys: Sequence[bytes | None],
        values: Sequence[bytes | None],
        *,
        partition: int | None = None,
        timestamps: Sequence[int] | None = None,
    ) -> None:
        """Queue the records with one spec lookup and one list extend."""
        check_many(keys, values, timestamps)
        n = len(keys)
        if not n:
            return
        parts = self._broker.spec(topic).partitions
        if timestamps is None:
            timestamps = [int(time.time() * 1000)] * n
        if partition is None:
            partitions: Sequence[int] = partitions_for(keys, parts)
        elif not 0 <= partition < parts:
            raise TransportError(f"topic {topic!r} has no partition {partition}")
        else:
            partitions = [partition] * n
        self._queue.extend(
            (topic, p, k, v, ts, ()) for p, k, v, ts in zip(partitions, keys, values, timestamps)
        )

    def flush(self) -> list[RecordMetadata]:
        if not self._queue:
            return []
        queue, self._queue = self._queue, []
        broker = self._broker
        with broker.changed:
            for topic, _p, key, *_ in queue:
                if key is None and broker.specs[topic].compacting:
                    raise TransportError(
                        f"compacted topic {topic!r} cannot accept a record without a key (as Kafka)"
                    )
            out: list[RecordMetadata] = []
            logs = broker.logs
            for topic, partition, key, value, timestamp, headers in queue:
                log = logs[TopicPartition(topic, partition)]
                offset = len(log)
                log.append(Message(topic, partition, offset, key, value, timestamp, headers))
                out.append(RecordMetadata(topic, partition, offset))
            broker.changed.notify_all()
        return out

    def discard(self) -> None:
        self._queue.clear()
