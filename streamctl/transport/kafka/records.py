"""Fetched record batches read straight into Messages, for the ``kafka://`` consumer.

kafka-python reads each record of a fetched batch in Python (seven varint calls, a
``DefaultRecord``, then a ``ConsumerRecord`` with sizes and deserializer calls), and
the transport then copies it into a :class:`~streamctl.transport.base.Message`: per
record, that is most of a Kafka run's client time (#14). :class:`MessageRecords`
replaces kafka-python's per-partition fetch result for one consumer: the batch-level
work stays kafka-python's (CRC check, aborted transactions, control batches, offsets
to resume from), and each record of a v2 batch (Kafka's message format since 0.11,
the only one Kafka 4 writes) is read in one pass into a Message. Older formats go
through kafka-python's own record reader.

The record layout (Kafka's ``DefaultRecord``): length varint, attributes int8,
timestamp delta varlong, offset delta varint, key length varint + key, value length
varint + value, header count varint, then per header a key length varint + UTF-8
key and a value length varint + value; varints are zigzag-encoded, -1 is null.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from kafka import errors as kerrors
from kafka.consumer.fetcher import Fetcher
from kafka.consumer.group import KafkaConsumer
from kafka.protocol.consumer.offsets import IsolationLevel

from streamctl.transport.base import Message

log = logging.getLogger("streamctl.transport.kafka")

#: kafka-python's per-partition fetch result (``object`` where this kafka-python lacks it)
_PartitionRecords: Any = getattr(Fetcher, "PartitionRecords", object)
_NEEDED = (
    "_unpack_records",
    "_consume_aborted_transactions_up_to",
    "_contains_abort_marker",
    "_is_batch_aborted",
)
#: the DefaultRecordBatch internals read here (as kafka-python 3.0 has them)
_BATCH_SLOTS = ("_buffer", "_header_data", "_pos", "_num_records", "_maybe_uncompress")
READ_COMMITTED = IsolationLevel.READ_COMMITTED
LOG_APPEND_TIME = 0x08
CONTROL = 0x20
_NEW = tuple.__new__


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    """The zigzag varint at ``pos`` and the position after it (any length)."""
    raw = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        raw |= (b & 0x7F) << shift
        if b < 0x80:
            return (raw >> 1) ^ -(raw & 1), pos
        shift += 7
        if shift > 63:
            raise ValueError("varint longer than 64 bits")


def _headers(buf: bytes, pos: int, count: int) -> tuple[list[tuple[str, Any]], int]:
    headers: list[tuple[str, Any]] = []
    for _ in range(count):
        n, pos = _varint(buf, pos)
        if n < 0:
            raise kerrors.CorruptRecordError(f"negative header key size {n}")
        name = buf[pos : pos + n].decode("utf-8")
        pos += n
        n, pos = _varint(buf, pos)
        if n >= 0:
            headers.append((name, buf[pos : pos + n]))
            pos += n
        else:
            headers.append((name, None))
    return headers, pos


def read_batch(batch: Any, topic: str, partition: int) -> Iterator[Message]:
    """The records of one v2 ``DefaultRecordBatch`` as Messages, in offset order.

    Raises kafka-python's CorruptRecordError for a record whose fields overrun it
    or a batch with bytes left over (as kafka-python's own reader).
    """
    batch._maybe_uncompress()
    buf = bytes(batch._buffer)  # slices of bytes are bytes: one copy per field
    pos = batch._pos
    header = batch._header_data
    base, first_ts = header[0], header[7]
    append_time = header[8] if header[5] & LOG_APPEND_TIME else None
    new, message, varint, no_headers = _NEW, Message, _varint, ()
    try:
        for _ in range(batch._num_records):
            # length (1 or 2 bytes for records under 8 KiB), then attributes (one byte)
            b = buf[pos]
            if b < 0x80:
                end = pos + 1 + (b >> 1)
                pos += 2
            elif buf[pos + 1] < 0x80:
                end = pos + 2 + ((b & 0x7F | buf[pos + 1] << 7) >> 1)
                pos += 3
            else:
                n, pos = varint(buf, pos)
                end = pos + n
                pos += 1
            b = buf[pos]  # timestamp delta (zigzag: may be negative)
            if b < 0x80:
                ts = first_ts + ((b >> 1) ^ -(b & 1))
                pos += 1
            else:
                n, pos = varint(buf, pos)
                ts = first_ts + n
            b = buf[pos]  # offset delta (never negative)
            if b < 0x80:
                offset = base + (b >> 1)
                pos += 1
            else:
                n, pos = varint(buf, pos)
                offset = base + n
            # key, then value: the same encoding, written out twice on purpose (a helper
            # call per field would cost more than the rest of the field's parsing)
            b = buf[pos]  # key: 1 is -1, null
            if b == 1:
                key = None
                pos += 1
            else:
                if b < 0x80:
                    n = b >> 1
                    pos += 1
                else:
                    n, pos = varint(buf, pos)
                key = buf[pos : pos + n]
                pos += n
            b = buf[pos]  # value: null is a tombstone
            if b == 1:
                value = None
                pos += 1
            else:
                if b < 0x80:
                    n = b >> 1
                    pos += 1
                else:
                    n, pos = varint(buf, pos)
                value = buf[pos : pos + n]
                pos += n
            if buf[pos] == 0:
                headers: Any = no_headers
                pos += 1
            else:
                n, pos = varint(buf, pos)
                if n < 0:
                    raise kerrors.CorruptRecordError(f"invalid number of record headers {n}")
                headers, pos = _headers(buf, pos, n)
            if pos != end:
                raise kerrors.CorruptRecordError(
                    f"{topic}[{partition}]@{offset}: record size does not match its fields"
                )
            if append_time is not None:
                ts = append_time
            yield new(message, (topic, partition, offset, key, value, ts, headers))
    except (IndexError, ValueError) as exc:
        raise kerrors.CorruptRecordError(f"invalid record structure: {exc!r}") from None
    if pos != len(buf):
        raise kerrors.CorruptRecordError(
            f"{len(buf) - pos} unconsumed bytes after all records of a batch"
        )


def _legacy(batch: Any, topic: str, partition: int, check_crcs: bool) -> Iterator[Message]:
    """A v0/v1 batch (Kafka before 0.11) through kafka-python's own reader."""
    for record in batch:
        if check_crcs and not record.validate_crc():
            raise kerrors.CorruptRecordError(
                f"record of {topic}[{partition}] at offset {record.offset} failed crc check"
            )
        yield _NEW(
            Message,
            (topic, partition, record.offset, record.key, record.value, record.timestamp, ()),
        )


class MessageRecords(_PartitionRecords):
    """kafka-python's per-partition fetch result, yielding Messages (see the module)."""

    def _unpack_records(
        self, tp: Any, records: Any, key_deserializer: Any, value_deserializer: Any
    ) -> Iterator[Message]:
        topic, partition = tp.topic, tp.partition
        read_committed = self.isolation_level == READ_COMMITTED
        last = None
        try:
            batch = records.next_batch()
            while batch is not None:
                last = batch
                if self.check_crcs and not batch.validate_crc():
                    raise kerrors.CorruptRecordError(
                        f"record batch of {topic}[{partition}] at offset "
                        f"{batch.base_offset} failed crc check"
                    )
                if batch.magic < 2:
                    for message in _legacy(batch, topic, partition, self.check_crcs):
                        self.records_read += 1
                        self.next_fetch_offset = message[2] + 1
                        yield message
                    batch = records.next_batch()
                    continue
                self.leader_epoch = batch.leader_epoch
                if read_committed and batch.has_producer_id():
                    # kafka-python's own bookkeeping of aborted transactions
                    self._consume_aborted_transactions_up_to(batch.last_offset)
                    if self._contains_abort_marker(batch):
                        self.aborted_producer_ids.discard(batch.producer_id)
                    elif self._is_batch_aborted(batch):
                        self.next_fetch_offset = batch.next_offset
                        batch = records.next_batch()
                        continue
                if batch.attributes & CONTROL:  # a transaction marker, never returned
                    self.next_fetch_offset = batch.next_offset
                    batch = records.next_batch()
                    continue
                for message in read_batch(batch, topic, partition):
                    self.next_fetch_offset = message[2] + 1
                    yield message
                self.records_read += batch._num_records
                self.bytes_read += batch.size_in_bytes
                batch = records.next_batch()
            # v2 keeps a batch's last offset even when compaction removed its record:
            # resume after the batch, not after its last record left
            if last is not None and last.magic == 2:
                self.next_fetch_offset = last.next_offset
            self.drain()
        except StopIteration:  # would end the generator silently (as kafka-python)
            raise RuntimeError("StopIteration raised unpacking a record set") from None


def install(consumer: KafkaConsumer) -> bool:
    """Make ``consumer.poll`` return Messages (True), or leave it as it is (False) when
    this kafka-python's fetcher differs or the consumer has deserializers."""
    fetcher = getattr(consumer, "_fetcher", None)
    if _PartitionRecords is object or fetcher is None:
        return False
    if not all(hasattr(_PartitionRecords, name) for name in _NEEDED):
        return False
    from kafka.record.default_records import DefaultRecordBatch

    slots = set(DefaultRecordBatch.__slots__) | set(dir(DefaultRecordBatch))
    if not all(name in slots for name in _BATCH_SLOTS):
        return False
    config = consumer.config
    if config.get("key_deserializer") or config.get("value_deserializer"):
        return False
    fetcher.PartitionRecords = MessageRecords
    return True
