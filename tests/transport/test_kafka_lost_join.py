"""A rebalance started by a change of the subscribed topics' partitions is installed even
when ``poll``'s timeout runs out while the group is joined (kafka-python 3 dropped it, so a
worker started on a just-created topic could sit with no partitions: see
``KafkaTransportConsumer._finish_join``)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from kafka.admin import NewPartitions

from streamctl.transport import TopicPartition, TopicSpec, open_transport
from streamctl.transport.base import RebalanceListener
from streamctl.transport.kafka import KafkaTransport

pytestmark = pytest.mark.kafka


class Seen(RebalanceListener):
    def __init__(self) -> None:
        self.assigned: list[set[int]] = []

    def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self.assigned.append({tp.partition for tp in assigned})

    def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        pass


def test_partitions_added_under_zero_timeout_polls_are_assigned(
    kafka_broker: str, tmp_path: Path, run_id: str
) -> None:
    topic, group = f"lostjoin-{run_id}", f"lostjoin-{run_id}"
    # metadata refreshed every 0.3 s, so the added partitions are seen quickly
    transport = open_transport(f"kafka://{kafka_broker}", datadir=tmp_path, metadata_max_age_ms=300)
    assert isinstance(transport, KafkaTransport)
    consumer = transport.consumer(group)
    try:
        transport.create_topics([TopicSpec(topic, 2)])
        seen = Seen()
        consumer.subscribe([topic], listener=seen)
        deadline = time.monotonic() + 30
        while {tp.partition for tp in consumer.assignment()} != {0, 1}:
            assert time.monotonic() < deadline, f"first assignment: {seen.assigned}"
            consumer.poll(timeout=0.2)
        transport.admin.create_partitions({topic: NewPartitions(4)})
        # poll(timeout=0) returns before every JoinGroup/SyncGroup round trip ends: the
        # round the new partitions start must still be installed by a later poll
        deadline = time.monotonic() + 20
        while {tp.partition for tp in consumer.assignment()} != {0, 1, 2, 3}:
            assert time.monotonic() < deadline, (
                f"the added partitions were never assigned: {seen.assigned}"
            )
            consumer.poll(timeout=0)
            time.sleep(0.01)
        assert seen.assigned[-1] == {0, 1, 2, 3}
    finally:
        consumer.close()
        transport.delete_topics([topic])
        transport.close()


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
