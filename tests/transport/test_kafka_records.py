"""The kafka:// consumer's own record reader returns what kafka-python's reader returns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import crc32c
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kafka import TopicPartition as KafkaTP
from kafka import errors as kerrors
from kafka.consumer.fetcher import Fetcher
from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder
from kafka.record.memory_records import MemoryRecords

from streamctl.transport import TopicPartition, open_transport
from streamctl.transport.base import TopicSpec
from streamctl.transport.kafka.records import MessageRecords

TP = KafkaTP("t", 3)
NOW = 1_796_601_600_000

record = st.tuples(
    st.one_of(st.none(), st.binary(max_size=40)),  # key
    # values of 60 bytes and more make the record length a two-byte varint, past 8 KiB
    # a three-byte one
    st.one_of(
        st.none(),
        st.binary(max_size=300),
        st.integers(min_value=60, max_value=5000).map(lambda n: b"m" * n),
        st.integers(min_value=8200, max_value=8300).map(lambda n: b"v" * n),
    ),
    st.lists(
        st.tuples(st.text(max_size=8), st.one_of(st.none(), st.binary(max_size=20))), max_size=3
    ),
    # timestamp delta (ms): one-byte varints, negative ones too, and long ones
    st.one_of(st.integers(min_value=-70, max_value=70), st.integers(-(10**6), 10**9)),
)


def batches(
    groups: list[list[tuple[Any, ...]]], compression: int = 0, *, stride: int = 1, tail: int = 0
) -> tuple[bytes, int]:
    """Record batches one after the other, as a fetch response holds them, from offset
    100; and the offset to fetch after them. Offsets are ``stride`` apart within a
    batch and skip one between batches (as compaction leaves them); the last batch
    ends ``tail`` offsets after its last record (compaction removed those)."""
    out = b""
    offset = 100
    for n, group in enumerate(groups):
        builder = DefaultRecordBatchBuilder(
            magic=2,
            compression_type=compression,
            is_transactional=False,
            producer_id=-1,
            producer_epoch=-1,
            base_sequence=-1,
            batch_size=1 << 24,
        )
        for i, (key, value, headers, delta) in enumerate(group):
            builder.append(
                i * stride, timestamp=NOW + delta, key=key, value=value, headers=[*headers]
            )
        built = bytearray(builder.build())
        built[0:8] = offset.to_bytes(8, "big")  # the broker sets the base offset
        last_delta = (len(group) - 1) * stride + (tail if n == len(groups) - 1 else 0)
        at = DefaultRecordBatch.ATTRIBUTES_OFFSET + 2  # LastOffsetDelta, under the CRC
        built[at : at + 4] = last_delta.to_bytes(4, "big")
        crc = crc32c.crc32c(bytes(built[DefaultRecordBatch.ATTRIBUTES_OFFSET :]))
        built[DefaultRecordBatch.CRC_OFFSET : DefaultRecordBatch.CRC_OFFSET + 4] = crc.to_bytes(
            4, "big"
        )
        out += bytes(built)
        offset += last_delta + 2
    return out, offset - 1


def kafka_pythons(data: bytes, fetch_offset: int) -> list[tuple[Any, ...]]:
    part = Fetcher.PartitionRecords(fetch_offset, TP, MemoryRecords(data))
    return [
        (TP.topic, TP.partition, r.offset, r.key, r.value, r.timestamp, list(r.headers))
        for r in part.take(None)
    ]


def ours(data: bytes, fetch_offset: int) -> tuple[list[tuple[Any, ...]], int]:
    part = MessageRecords(fetch_offset, TP, MemoryRecords(data))
    got = part.take(None)
    assert all(m.__class__.__name__ == "Message" for m in got)
    return [(*m[:6], list(m.headers)) for m in got], part.next_fetch_offset


@settings(max_examples=60, deadline=None)
@given(
    groups=st.lists(st.lists(record, min_size=1, max_size=12), min_size=1, max_size=3),
    compression=st.sampled_from([0, 1]),  # none, gzip
    skip=st.integers(min_value=0, max_value=5),
    stride=st.sampled_from([1, 3, 70]),  # offset deltas of one and two varint bytes
    tail=st.sampled_from([0, 2]),
)
def test_the_same_records_as_kafka_pythons_reader(
    groups: list[list[tuple[Any, ...]]], compression: int, skip: int, stride: int, tail: int
) -> None:
    data, after = batches(groups, compression, stride=stride, tail=tail)
    fetch_offset = 100 + skip  # a fetch may start inside a batch: earlier records are dropped
    got, resume = ours(data, fetch_offset)
    assert got == kafka_pythons(data, fetch_offset)
    assert resume == after  # after the last batch's last offset, not its last record


def test_a_corrupted_batch_is_refused_and_a_truncated_record_is_corrupt() -> None:
    data, _ = batches([[(b"k", b"value-%d" % i, [], i) for i in range(10)]])
    flipped = bytearray(data)
    flipped[-3] ^= 1
    with pytest.raises(kerrors.CorruptRecordError, match="crc"):
        MessageRecords(100, TP, MemoryRecords(bytes(flipped))).take(None)
    # the same damage with CRC checks off: the record no longer adds up
    longer = bytearray(data)
    longer[61] += 2  # the first record's length varint (after the 61-byte batch header)
    with pytest.raises(kerrors.CorruptRecordError):
        MessageRecords(100, TP, MemoryRecords(bytes(longer)), check_crcs=False).take(None)


@pytest.mark.kafka
def test_aborted_transactions_stay_hidden_from_read_committed_consumers(
    kafka_broker: str, tmp_path: Path, run_id: str
) -> None:
    topic = f"records-txn-{run_id}"
    transport = open_transport(f"kafka://{kafka_broker}", datadir=tmp_path)
    committed = open_transport(
        f"kafka://{kafka_broker}", datadir=tmp_path, isolation_level="read_committed"
    )
    try:
        transport.create_topics([TopicSpec(topic, 1)])
        producer = transport.producer(transactional_id=f"records-{run_id}")
        for n, commit in enumerate([True, False, True]):
            producer.begin_transaction()
            for i in range(3):
                producer.send(topic, b"k", b"%d-%d" % (n, i), partition=0)
            if commit:
                producer.commit_transaction({})
            else:
                producer.flush()
                producer.abort_transaction()
        producer.close()
        tp = TopicPartition(topic, 0)
        seen = {}
        for name, t in (("all", transport), ("committed", committed)):
            consumer = t.consumer(None)
            assert consumer._messages  # type: ignore[attr-defined]  # our reader is in use
            consumer.assign([tp])
            end = consumer.end_offsets([tp])[tp]
            got: list[bytes] = []
            for _ in range(50):
                got += [m.value for m in consumer.poll(100, timeout=0.2) if m.value is not None]
                if consumer.position(tp) >= end:
                    break
            consumer.close()
            seen[name] = got
        assert seen["committed"] == [b"0-0", b"0-1", b"0-2", b"2-0", b"2-1", b"2-2"]
        # control records (the transaction markers) are never returned, aborted ones are
        # to a read_uncommitted consumer (as Kafka's)
        assert seen["all"] == [b"%d-%d" % (n, i) for n in range(3) for i in range(3)]
    finally:
        transport.delete_topics([topic])
        committed.close()
        transport.close()
