"""Producer of the embedded broker: queue per partition on send, append record batches on flush.

A transactional producer (``processing_guarantee: exactly_once``) holds SQLite's write
lock from its first flush in a transaction to :meth:`LocalProducer.commit_transaction`,
which commits the group's offsets in the same SQLite transaction: outputs, changelog
records and source offsets become visible together, or (abort, or a crash) never.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from streamctl.transport import batches
from streamctl.transport.base import (
    Consumer,
    Headers,
    Producer,
    RecordMetadata,
    TopicPartition,
    check_many,
)
from streamctl.transport.exceptions import TransportError
from streamctl.transport.local import groups
from streamctl.transport.local import log as _log
from streamctl.transport.local.log import insert_batch, log_table, write
from streamctl.transport.partitioner import partition_for, partitions_for

if TYPE_CHECKING:
    from streamctl.transport.local.transport import LocalTransport

#: one partition's queue, column by column: keys, values, timestamps, headers as JSON or None
_Queue = tuple[list[bytes | None], list[bytes | None], list[int], list[str | None]]


class LocalProducer(Producer):
    """Queues records per partition, column by column, as they are sent; ``flush`` appends
    each partition's queue as record batches in one write transaction."""

    def __init__(self, transport: LocalTransport, *, transactional: bool = False) -> None:
        self.transport = transport
        self.transactional = transactional
        #: a transaction was begun (transactional producers only)
        self._in_transaction = False
        #: the SQLite transaction is open: records were flushed into it and hold the write lock
        self._open = False
        #: the topics written in the open transaction (compacted after it commits)
        self._written: set[str] = set()
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
        parts = self._partitions(topic, partition)
        if partition is None:
            partition = partition_for(key, parts)
        tp = (topic, partition)
        queue = self._queue(tp)
        queue[0].append(key)
        queue[1].append(value)
        queue[2].append(timestamp if timestamp is not None else int(time.time() * 1000))
        queue[3].append(batches.encode_headers(headers) if headers else None)
        self._order.append(tp)

    def send_many(
        self,
        topic: str,
        keys: Sequence[bytes | None],
        values: Sequence[bytes | None],
        *,
        partition: int | None = None,
        timestamps: Sequence[int] | None = None,
    ) -> None:
        """Queue the records column by column: one list extend per partition when
        ``partition`` is given, else one pass that sorts them by their keys' partitions."""
        check_many(keys, values, timestamps)
        n = len(keys)
        if not n:
            return
        parts = self._partitions(topic, partition)
        if timestamps is None:
            timestamps = [int(time.time() * 1000)] * n
        if partition is not None:
            tp = (topic, partition)
            queue = self._queue(tp)
            queue[0].extend(keys)
            queue[1].extend(values)
            queue[2].extend(timestamps)
            queue[3].extend([None] * n)
            self._order.extend([tp] * n)
            return
        # one queue per partition, looked up by number (no tuple built per record)
        tps = [(topic, p) for p in range(parts)]
        queues = [self._queue(tp) for tp in tps]
        order = self._order
        for p, key, value, ts in zip(partitions_for(keys, parts), keys, values, timestamps):
            queue = queues[p]
            queue[0].append(key)
            queue[1].append(value)
            queue[2].append(ts)
            queue[3].append(None)
            order.append(tps[p])

    def _partitions(self, topic: str, partition: int | None) -> int:
        """``topic``'s partition count; TransportError when it has no ``partition``."""
        parts = self._parts.get(topic)
        if parts is None:
            parts = self._parts[topic] = self.transport.topic_info(topic)[1]
        if partition is not None and not 0 <= partition < parts:
            raise TransportError(f"topic {topic!r} has no partition {partition}")
        return parts

    def _queue(self, tp: tuple[str, int]) -> _Queue:
        queue = self._queues.get(tp)
        if queue is None:
            queue = self._queues[tp] = ([], [], [], [])
        return queue

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
        if self._in_transaction:
            self._written.update(topic for topic, _ in queues)
            if not self._open:
                _log.begin(t.db)
                self._open = True
            try:
                first = self._append(t.db, queues)
            except BaseException as exc:
                failure = self._abandon(exc)
                if failure is exc:
                    raise
                raise failure from None
        else:
            with write(t.db) as db:
                first = self._append(db, queues)
        new = tuple.__new__
        meta: list[RecordMetadata] = []
        for tp in order:
            off = first[tp]
            first[tp] = off + 1
            meta.append(new(RecordMetadata, (tp[0], tp[1], off)))
        if not self._in_transaction:
            self._maybe_compact({topic for topic, _ in queues})
        return meta

    def _append(
        self, db: sqlite3.Connection, queues: dict[tuple[str, int], _Queue]
    ) -> dict[tuple[str, int], int]:
        """Append each partition's queue as record batches (inside a write transaction);
        returns the first offset given per partition."""
        t = self.transport
        first: dict[tuple[str, int], int] = {}
        step = batches.ROW_MAX
        ends = []
        for (topic, partition), (keys, values, stamps, headers) in queues.items():
            if not keys:
                continue  # a partition send_many prepared and no record went to
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
        return first

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

    # -- transactions (exactly-once on the embedded broker) ------------------------------
    def _check_transactional(self) -> None:
        if not self.transactional:
            raise TransportError("this producer has no transactions (no transactional_id)")

    def begin_transaction(self) -> None:
        """Start a transaction: what is flushed from now on commits with the offsets."""
        self._check_transactional()
        if self._in_transaction:
            raise TransportError("a transaction is already open on this producer")
        self._in_transaction = True

    def commit_transaction(
        self, offsets: Mapping[TopicPartition, int], consumer: Consumer | None = None
    ) -> None:
        """Flush, commit ``consumer``'s group ``offsets`` in the same SQLite transaction
        and commit it: readers see the records and the offsets together, or neither.

        ``consumer`` must be a consumer of the same embedded broker (its
        :meth:`~streamctl.transport.local.LocalConsumer.group_metadata` names the
        group and the broker file). Raises TransportError otherwise, or when no
        transaction was begun; the transaction is then still open (abort it).
        """
        self._check_transactional()
        if not self._in_transaction:
            raise TransportError("commit_transaction without begin_transaction")
        t = self.transport
        group = consumer.group_metadata() if consumer is not None and offsets else None
        if offsets and (not isinstance(group, groups.GroupMetadata) or group.path != t.path):
            raise TransportError(
                f"commit_transaction: the consumer is not one of this embedded broker's ({t.path})"
            )
        self.flush()
        if isinstance(group, groups.GroupMetadata):
            if not self._open:
                _log.begin(t.db)
                self._open = True
            try:
                groups.write_offsets(
                    t.db,
                    group.group_id,
                    [(t.topic_info(tp.topic)[0], tp.partition, off) for tp, off in offsets.items()],
                )
            except BaseException as exc:
                failure = self._abandon(exc)
                if failure is exc:
                    raise
                raise failure from None
        if self._open:
            try:
                t.db.execute("COMMIT")
            except BaseException as exc:
                failure = self._abandon(exc)
                if failure is exc:
                    raise
                raise failure from None
            self._open = False
        self._in_transaction = False
        topics, self._written = self._written, set()
        self._maybe_compact(topics)

    def abort_transaction(self) -> None:
        """Drop what the transaction queued or flushed: no reader ever sees it."""
        self.discard()
        self._rollback()
        self._written.clear()
        self._in_transaction = False

    def _abandon(self, exc: BaseException) -> BaseException:
        """Roll the open transaction back; the error to raise for ``exc`` (a full disk or
        damaged pages as their one-line errors, anything else as it is)."""
        self._rollback()
        return _log.translated(self.transport.db, exc) or exc

    def _rollback(self) -> None:
        if self._open:
            self._open = False
            try:
                self.transport.db.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # SQLite already rolled back (an error that ends the transaction)

    def close(self) -> None:
        """Flush (a plain producer) or abort the open transaction, then nothing is held."""
        if self.transactional:
            self.abort_transaction()
        else:
            self.flush()
