"""What a rebalance listener raises reaches ``poll``'s caller as it was raised (both Kafka
transports): kafka-python wraps it in "User rebalance callback throws an error", which
once hid the worker's own message, e.g. a store ahead of its changelog after the topic
was deleted and recreated ("error: poll: Kafka at ... failed: KafkaError: User
rebalance callback throws an error")."""

from __future__ import annotations

import threading
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


class RefusesThenCounts(Refuses):
    def __init__(self) -> None:
        self.revoked = 0

    def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        self.revoked += 1


@pytest.mark.timeout(120)
def test_after_the_listener_failed_close_neither_calls_it_nor_hangs(
    kafka_broker: str, tmp_path: Path, run_id: str
) -> None:
    # kafka+confluent: librdkafka revokes as the consumer closes; a failed worker's
    # listener must not commit then, and the close must return (#15 review: a worker
    # whose recovery failed in the rebalance callback hung and ignored SIGTERM)
    topic = f"listener-close-{run_id}"
    transport = open_transport(f"kafka+confluent://{kafka_broker}", datadir=tmp_path)
    listener = RefusesThenCounts()
    try:
        transport.create_topics([TopicSpec(topic, partitions=1)])
        consumer = transport.consumer(f"listener-close-{run_id}")
        consumer.subscribe([topic], listener=listener)
        deadline = time.monotonic() + 60
        with pytest.raises(StoreAheadOfLog):
            while time.monotonic() < deadline:
                consumer.poll(max_records=10, timeout=0.5)
        started = time.monotonic()
        consumer.close()
        assert time.monotonic() - started < 20
        assert listener.revoked == 0
    finally:
        transport.close()


class _HangingClose:
    """librdkafka's consumer whose close never returns (librdkafka #4527, #4884)."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def close(self) -> None:
        self.release.wait(60)


def test_a_close_librdkafka_never_finishes_returns_after_its_bound(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from streamctl.transport.confluent import consumer as confluent_consumer

    monkeypatch.setattr(confluent_consumer, "CLOSE_TIMEOUT", 0.5)
    stuck = _HangingClose()
    consumer = confluent_consumer.ConfluentTransportConsumer(
        stuck,  # type: ignore[arg-type]
        "g",
        "127.0.0.1:1",
        1.0,
        lambda tps, which: {},
    )
    started = time.monotonic()
    with caplog.at_level("WARNING", logger="streamctl.transport"):
        consumer.close()
    stuck.release.set()
    assert 0.5 <= time.monotonic() - started < 5
    assert "did not finish in 0.5s" in caplog.text
