"""Kafka-only behaviour: settings, errors, and a real two-member rebalance."""

from __future__ import annotations

import threading
import time

import pytest

from streamctl.exceptions import ConfigurationError
from streamctl.transport import TopicPartition, TopicSpec, open_transport
from streamctl.transport.base import RebalanceListener
from streamctl.transport.exceptions import BrokerUnavailable
from streamctl.transport.kafka.config import KafkaSettings, parse_url


def test_url_lists_bootstrap_servers() -> None:
    assert parse_url("kafka://a:9092,b:9093") == ["a:9092", "b:9093"]


def test_settings_are_routed_to_the_clients_that_take_them() -> None:
    settings = KafkaSettings(
        ["h:1"],
        {
            "compression": "gzip",
            "max_poll_records": 77,
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": "PLAIN",
            "sasl_plain_username": "u",
            "sasl_plain_password": "secret",
            "enable_auto_commit": True,
        },
    )
    producer, consumer, admin = (
        settings.producer(),
        settings.consumer(group_id="g"),
        settings.admin(),
    )
    assert producer["compression_type"] == "gzip" and "max_poll_records" not in producer
    assert consumer["max_poll_records"] == 77 and "compression_type" not in consumer
    assert consumer["enable_auto_commit"] is False  # the engine commits, always
    assert consumer["auto_offset_reset"] == "earliest"
    for config in (producer, consumer, admin):
        assert config["sasl_plain_password"] == "secret"
        assert config["bootstrap_servers"] == ["h:1"]


def test_unknown_setting_is_a_configuration_error(tmp_path) -> None:
    with pytest.raises(ConfigurationError, match="lingerms"):
        open_transport("kafka://h:1", datadir=tmp_path, lingerms=5)


def test_unreachable_broker_raises_broker_unavailable(tmp_path) -> None:
    transport = open_transport(
        "kafka://127.0.0.1:9,127.0.0.1:10",
        datadir=tmp_path,
        bootstrap_timeout_ms=500,
        sasl_plain_password="hunter2",
    )
    assert "hunter2" not in repr(transport)
    for action in (transport.producer, lambda: transport.consumer("g"), transport.list_topics):
        with pytest.raises(BrokerUnavailable) as err:
            action()
        message = str(err.value)
        assert "127.0.0.1:9,127.0.0.1:10" in message
        assert "hunter2" not in message and "\n" not in message


class Committer(RebalanceListener):
    """Commits its progress when partitions are revoked, as the worker does."""

    def __init__(self) -> None:
        self.consumer = None
        self.progress: dict[TopicPartition, int] = {}
        self.revoked: list[set[TopicPartition]] = []
        self.assigned: list[set[TopicPartition]] = []
        self.threads: set[str] = set()

    def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        self.threads.add(threading.current_thread().name)
        self.revoked.append(revoked)
        self.consumer.commit({tp: self.progress[tp] for tp in revoked if tp in self.progress})

    def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self.assigned.append(assigned)


@pytest.mark.kafka
@pytest.mark.timeout(120)
def test_second_member_takes_partitions_after_first_commits(kafka_broker, tmp_path) -> None:
    transport = open_transport(f"kafka://{kafka_broker}", datadir=tmp_path)
    topic = group = f"rebalance-{time.time_ns()}"
    transport.create_topics([TopicSpec(topic, partitions=2)])
    producer = transport.producer()
    for i in range(20):
        producer.send(topic, None, str(i).encode(), partition=i % 2)
    producer.flush()
    producer.close()

    first_listener, second_listener = Committer(), Committer()
    first = transport.consumer(group)
    first_listener.consumer = first
    first.subscribe([topic], listener=first_listener)
    seen = 0
    deadline = time.monotonic() + 15
    while seen < 20:
        assert time.monotonic() < deadline
        for m in first.poll(timeout=0.2):
            first_listener.progress[m.tp] = m.offset + 1
            seen += 1

    second = transport.consumer(group)
    second_listener.consumer = second
    second.subscribe([topic], listener=second_listener)
    deadline = time.monotonic() + 30
    while not (first.assignment() and second.assignment()) or (
        first.assignment() | second.assignment()
    ) != {TopicPartition(topic, 0), TopicPartition(topic, 1)}:
        assert time.monotonic() < deadline, "the group never split its partitions"
        first.poll(timeout=0.1)
        second.poll(timeout=0.1)
    # a follow-up round (kafka-python may start one as the new member's metadata
    # settles) must end before the first member closes: its revoke-time commit fails
    # while the group is rebalancing
    settle = time.monotonic() + 2
    while time.monotonic() < settle:
        first.poll(timeout=0.1)
        second.poll(timeout=0.1)
    assert (first.assignment() | second.assignment()) == {
        TopicPartition(topic, 0),
        TopicPartition(topic, 1),
    }
    assert first_listener.revoked, "first member was not told its partitions were revoked"
    assert "streamctl-rebalance" in first_listener.threads
    moved = second.assignment()
    for tp in moved:  # the new owner starts where the old one committed
        assert second.committed(tp) == 10
    first.close()
    second.close()
    transport.close()
