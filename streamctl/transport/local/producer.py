"""Producer of the embedded broker: queue per partition on send, append record batches on flush."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from streamctl.transport import batches
from streamctl.transport.base import Headers, Producer, RecordMetadata
from streamctl.transport.exceptions import TransportError
from streamctl.transport.local import log as _log
from streamctl.transport.local.log import insert_batch, log_table, write
from streamctl.transport.partitioner import partition_for

if TYPE_CHECKING:
    from streamctl.transport.local.transport import LocalTransport

#: one partition's queue, column by column: keys, values, timestamps, headers as JSON or None
_Queue = tuple[list[bytes | None], list[bytes | None], list[int], list[str | None]]


class LocalProducer(Producer):
    """Queues records per partition, column by column, as they are sent; ``flush`` appends
    each partition's queue as record batches in one write transaction."""

    def __init__(self, transport: LocalTransport) -> None:
        self.transport = transport
        self._queues: dict[tuple[str, int], _Queue] = {}
        self._order: list[tuple[str, int]] = []  # partition of every queued record, in send order
        self._parts: dict[str, int] = {}

    @property
    def pending(self) -> int:
        return len(self._order)

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
        parts = self._parts.get(topic)
        if parts is None:
            parts = self._parts[topic] = self.transport.topic_info(topic)[1]
        if partition is None:
            partition = partition_for(key, parts)
        elif not 0 <= partition < parts:
            raise TransportError(f"topic {topic!r} has no partition {partition}")
        tp = (topic, partition)
        queue = self._queues.get(tp)
        if queue is None:
            queue = self._queues[tp] = ([], [], [], [])
        queue[0].append(key)
        queue[1].append(value)
        queue[2].append(timestamp if timestamp is not None else int(time.time() * 1000))
        queue[3].append(batches.encode_headers(headers) if headers else None)
        self._order.append(tp)

    def flush(self) -> list[RecordMetadata]:
        if not self._order:
            return []
        queues, order = self._queues, self._order
        self._queues, self._order = {}, []
        t = self.transport
        for (topic, _p), (keys, *_rest) in queues.items():
            if t.is_compacted(topic) and None in keys:
                raise TransportError(
                    f"compacted topic {topic!r} cannot accept a record without a key (as Kafka)"
                )
        first: dict[tuple[str, int], int] = {}
        step = batches.ROW_MAX
        with write(t.db) as db:
            ends = []
            for (topic, partition), (keys, values, stamps, headers) in queues.items():
                tid = t.topic_info(topic)[0]
                (off,) = db.execute(
                    "SELECT next_offset FROM partitions WHERE tid=? AND partition=?",
                    (tid, partition),
                ).fetchone()
                first[(topic, partition)] = off
                log = log_table(tid, partition)
                n = len(keys)
                for i in range(0, n, step):
                    j = min(n, i + step)
                    insert_batch(
                        db,
                        log,
                        off + i,
                        off + j - 1,
                        None,
                        keys[i:j],
                        values[i:j],
                        stamps[i:j],
                        headers[i:j],
                    )
                ends.append((off + n, tid, partition))
            db.executemany("UPDATE partitions SET next_offset=? WHERE tid=? AND partition=?", ends)
        new = tuple.__new__
        meta: list[RecordMetadata] = []
        for tp in order:
            off = first[tp]
            first[tp] = off + 1
            meta.append(new(RecordMetadata, (tp[0], tp[1], off)))
        self._maybe_compact({topic for topic, _ in queues})
        return meta

    def _maybe_compact(self, topics: set[str]) -> None:
        """Compact the partitions of the compacted ``topics`` that grew enough since last time."""
        t = self.transport
        for topic in topics:
            if not t.is_compacted(topic):
                continue
            due = _log.due_for_compaction(t.db, t.topic_info(topic)[0])
            if due:
                t.compact(topic, due)

    def discard(self) -> None:
        self._queues.clear()
        self._order.clear()
