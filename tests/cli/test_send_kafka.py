"""``streamctl send --file`` on Kafka is one transaction: read_committed readers see all or none."""

from __future__ import annotations

import json
import signal
import time
import uuid
from pathlib import Path

import pytest
from support import streamctl_process

pytestmark = pytest.mark.kafka

LINES = 100_000
PIPELINE = """
app: sender
broker: kafka://{bootstrap}
topics:
  {topic}: {{partitions: 4}}
broker_settings:
  transaction_timeout_ms: {timeout}
"""


def _consumer(bootstrap: str, topic: str, isolation: str):  # type: ignore[no-untyped-def]
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, isolation_level=isolation, consumer_timeout_ms=2000
    )
    tps = [TopicPartition(topic, p) for p in range(4)]
    consumer.assign(tps)
    consumer.seek_to_beginning()
    return consumer, tps


def _write(
    tmp_path: Path, bootstrap: str, topic: str, lines: int, timeout: int
) -> tuple[Path, Path]:
    data = tmp_path / "orders.jsonl"
    data.write_text("".join(json.dumps({"id": i}) + "\n" for i in range(lines)))
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(PIPELINE.format(bootstrap=bootstrap, topic=topic, timeout=timeout))
    return pipeline, data


def test_a_send_killed_mid_file_leaves_nothing_visible_to_read_committed_readers(
    kafka_broker: str, tmp_path: Path
) -> None:
    topic = f"send-killed-{uuid.uuid4().hex[:8]}"
    pipeline, data = _write(tmp_path, kafka_broker, topic, LINES, 3000)
    proc = streamctl_process("send", topic, "--file", data, "-p", pipeline)
    uncommitted, tps = _consumer(kafka_broker, topic, "read_uncommitted")
    deadline = time.monotonic() + 60
    written = 0
    while written == 0:  # kill once records of the file are in Kafka's log
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        try:
            written = sum(uncommitted.end_offsets(tps).values())
        except Exception:  # the topic is not created yet
            written = 0
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert 0 < written < LINES
    # Kafka aborts the dead send's transaction on its timeout: the last stable offset
    # (a read_committed reader's end) then reaches the high-water mark
    committed, _ = _consumer(kafka_broker, topic, "read_committed")
    deadline = time.monotonic() + 60
    while committed.end_offsets(tps) != uncommitted.end_offsets(tps):
        assert time.monotonic() < deadline, "Kafka never aborted the killed send's transaction"
        time.sleep(0.5)
    assert sum(committed.end_offsets(tps).values()) > written  # the records and abort markers
    seen = sum(1 for _ in committed)  # reads to the end (consumer_timeout_ms)
    assert seen == 0, f"a read_committed reader saw {seen} record(s) of a killed send"
    assert all(committed.position(tp) == end for tp, end in committed.end_offsets(tps).items())
    committed.close()
    uncommitted.close()


def test_a_whole_file_is_visible_to_read_committed_readers(
    kafka_broker: str, tmp_path: Path
) -> None:
    topic = f"send-whole-{uuid.uuid4().hex[:8]}"
    pipeline, data = _write(tmp_path, kafka_broker, topic, 2000, 60_000)
    proc = streamctl_process("send", topic, "--file", data, "-p", pipeline)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "sent 2,000 record(s)" in out
    committed, _ = _consumer(kafka_broker, topic, "read_committed")
    ids = sorted(json.loads(r.value)["id"] for r in committed)
    committed.close()
    assert ids == list(range(2000))
