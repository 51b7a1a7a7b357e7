"""A worker's first rebalance on a topic created just before it subscribed assigns the
topic's partitions (kafka-python asked for their metadata only after its first join, so
the first assignment was empty and the second one could be lost: see
``KafkaTransportConsumer._await_partitions``)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from streamctl.transport import TopicPartition, TopicSpec, open_transport
from streamctl.transport.base import RebalanceListener

pytestmark = pytest.mark.kafka


class Seen(RebalanceListener):
    def __init__(self) -> None:
        self.assigned: list[set[int]] = []

    def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self.assigned.append({tp.partition for tp in assigned})

    def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        pass


def test_the_first_rebalance_assigns_a_topic_created_just_before(
    kafka_broker: str, tmp_path: Path, run_id: str
) -> None:
    # kafka-python fetched the topic's metadata only after the first join, whose leader
    # then assigned nothing: every worker start took two rebalances (and relied on the
    # second one, which kafka-python could drop)
    topic = f"firstjoin-{run_id}"
    transport = open_transport(f"kafka://{kafka_broker}", datadir=tmp_path)
    consumer = transport.consumer(f"firstjoin-{run_id}")
    try:
        transport.create_topics([TopicSpec(topic, 4)])
        seen = Seen()
        consumer.subscribe([topic], listener=seen)
        deadline = time.monotonic() + 30
        while not seen.assigned:
            assert time.monotonic() < deadline, "never assigned"
            consumer.poll(timeout=0.1)
        assert seen.assigned == [{0, 1, 2, 3}]
    finally:
        consumer.close()
        transport.delete_topics([topic])
        transport.close()
