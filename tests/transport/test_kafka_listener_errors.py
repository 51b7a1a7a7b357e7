"""What a rebalance listener raises reaches ``poll``'s caller as it was raised (both Kafka
transports): kafka-python wraps it in "User rebalance callback throws an error", which
once hid the worker's own message, e.g. a store ahead of its changelog after the topic
was deleted and recreated ("error: poll: Kafka at ... failed: KafkaError: User
rebalance callback throws an error")."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from streamctl.tables.exceptions import StoreAheadOfLog
from streamctl.transport import TopicPartition, TopicSpec, open_transport
from streamctl.transport.base import RebalanceListener

pytestmark = pytest.mark.kafka


class Refuses(RebalanceListener):
    def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        raise StoreAheadOfLog("table t partition 0: its store is ahead of the changelog")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("scheme", ["kafka", "kafka+confluent"])
def test_an_error_raised_by_the_listener_is_raised_by_poll(
    kafka_broker: str, tmp_path: Path, run_id: str, scheme: str
) -> None:
    topic = f"listener-{run_id}"
    transport = open_transport(f"{scheme}://{kafka_broker}", datadir=tmp_path)
    try:
        transport.create_topics([TopicSpec(topic, partitions=1)])
        consumer = transport.consumer(f"listener-{run_id}")
        try:
            consumer.subscribe([topic], listener=Refuses())
            deadline = time.monotonic() + 60
            with pytest.raises(StoreAheadOfLog, match="ahead of the changelog"):
                while time.monotonic() < deadline:
                    consumer.poll(max_records=10, timeout=0.5)
        finally:
            consumer.close()
    finally:
        transport.close()
