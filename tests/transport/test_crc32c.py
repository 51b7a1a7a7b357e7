"""kafka-python checks record CRCs with the ``crc32c`` C extension (a dependency, #14)."""

from __future__ import annotations

import crc32c
import pytest
from kafka import TopicPartition as KafkaTP
from kafka import errors as kerrors
from kafka.consumer.fetcher import Fetcher
from kafka.record import _crc32c as pure_python
from kafka.record import util
from kafka.record.default_records import DefaultRecordBatchBuilder
from kafka.record.memory_records import MemoryRecords

from streamctl.transport import open_transport


def batch(n: int = 10) -> bytes:
    """One v2 record batch as a broker would return it in a fetch."""
    builder = DefaultRecordBatchBuilder(
        magic=2,
        compression_type=0,
        is_transactional=False,
        producer_id=-1,
        producer_epoch=-1,
        base_sequence=-1,
        batch_size=1 << 20,
    )
    for i in range(n):
        builder.append(i, timestamp=None, key=b"k", value=b"value-%d" % i, headers=[])
    return bytes(builder.build())


def test_kafka_python_uses_the_c_extension() -> None:
    # kafka.record.util binds its CRC function as calc_crc32c's default argument at import
    (in_use,) = util.calc_crc32c.__defaults__ or (None,)
    assert in_use is crc32c.crc32c
    assert type(in_use).__name__ == "builtin_function_or_method"  # C, not kafka/record/_crc32c.py
    data = batch()
    assert in_use(data) == pure_python.crc(data)  # the same checksum, computed in C


def test_a_corrupted_record_batch_is_refused_on_fetch() -> None:
    tp = KafkaTP("t", 0)
    good = Fetcher.PartitionRecords(0, tp, MemoryRecords(batch()))
    assert [r.value for r in good.take(100)] == [b"value-%d" % i for i in range(10)]
    corrupted = bytearray(batch())
    corrupted[-3] ^= 1  # one bit of the last record's value
    bad = Fetcher.PartitionRecords(0, tp, MemoryRecords(bytes(corrupted)))
    with pytest.raises(kerrors.CorruptRecordError, match="crc"):
        bad.take(100)


@pytest.mark.kafka
def test_the_kafka_transport_consumer_checks_crcs(kafka_broker: str, tmp_path) -> None:
    transport = open_transport(f"kafka://{kafka_broker}", datadir=tmp_path)
    consumer = transport.consumer(None)
    try:
        assert consumer._consumer.config["check_crcs"] is True  # type: ignore[attr-defined]
    finally:
        consumer.close()
        transport.close()
