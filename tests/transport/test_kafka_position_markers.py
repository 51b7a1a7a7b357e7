"""A consumer's position passes transaction markers (both Kafka transports).

A transaction's commit marker takes an offset after its last record. A table store
records the last record's offset, so a recovery after an exactly-once commit seeks to
the marker, polls nothing (markers are not records) and must see its position reach
the end: kafka+confluent:// once kept the sought offset as the position until a record
of that partition was returned, and every exactly-once recovery (a restart, a
rebalance, a standby promoted) stalled for 60 s and failed with RecoveryStalled.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from streamctl.transport import TopicPartition, TopicSpec, open_transport

pytestmark = pytest.mark.kafka


@pytest.mark.timeout(120)
@pytest.mark.parametrize("scheme", ["kafka", "kafka+confluent"])
def test_position_after_a_seek_to_a_commit_marker_reaches_the_end(
    kafka_broker: str, tmp_path: Path, run_id: str, scheme: str
) -> None:
    topic = f"markers-{run_id}"
    tp = TopicPartition(topic, 0)
    transport = open_transport(
        f"{scheme}://{kafka_broker}", datadir=tmp_path, isolation_level="read_committed"
    )
    try:
        transport.create_topics([TopicSpec(topic, partitions=1)])
        producer = transport.producer(transactional_id=f"markers-{run_id}")
        producer.begin_transaction()
        for i in range(3):
            producer.send(topic, b"k", str(i).encode(), partition=0)
        producer.commit_transaction({})
        producer.close()
        consumer = transport.consumer(None)
        try:
            # three records and the commit marker; Kafka writes the marker after the
            # commit returns (the coordinator's second phase), so the read_committed end
            # (the last stable offset) may show 0 for a moment
            deadline = time.monotonic() + 20
            while (end := consumer.end_offsets([tp])[tp]) != 4:
                assert time.monotonic() < deadline, end
                time.sleep(0.1)
            consumer.assign([tp])
            consumer.seek(tp, 3)  # after the last record: the marker
            deadline = time.monotonic() + 20
            while consumer.position(tp) < end and time.monotonic() < deadline:
                assert consumer.poll(max_records=10, timeout=0.2) == []
            assert consumer.position(tp) == end
            # a seek back still wins over where the consumer was
            consumer.seek(tp, 1)
            assert consumer.position(tp) == 1
            got: list[int] = []
            while len(got) < 2 and time.monotonic() < deadline:
                got += [m.offset for m in consumer.poll(max_records=10, timeout=0.2)]
            assert got == [1, 2]
        finally:
            consumer.close()
    finally:
        transport.close()
