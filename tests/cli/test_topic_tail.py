"""``streamctl topic tail``: up to the end offsets at the call, on both brokers (#10)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from support import cli

from streamctl.app import App

# keys: none, the text null, the text "quoted" (with its quotes), the text quoted
KEYS = [None, b"null", b'"quoted"', b"quoted"]


def fill(broker: str, datadir: Path, topic: str, extra: int = 0) -> None:
    app = App("tail-test", broker=broker, datadir=datadir)
    app.topic(topic, partitions=1)
    app.ensure_topics()
    for i, key in enumerate(KEYS):
        app.producer.send(topic, key, json.dumps({"n": i}).encode())
    for i in range(extra):
        app.producer.send(topic, b"more", json.dumps({"n": len(KEYS) + i}).encode())
    app.producer.flush()
    app.close()


def tail(broker: str, datadir: Path, topic: str, *args: str) -> list[dict[str, object]]:
    result = cli("topic", "tail", topic, "-b", broker, "-d", datadir, *args)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def check_tail(broker: str, datadir: Path) -> None:
    topic = f"tail-{uuid.uuid4().hex[:8]}"
    fill(broker, datadir, topic, extra=8)
    for _ in range(3):  # every try reads up to the end (Kafka: not "until the first empty poll")
        latest = tail(broker, datadir, topic)
        assert [r["offset"] for r in latest] == list(range(2, 12))
    first = tail(broker, datadir, topic, "--from-beginning", "-n", "4")
    assert [r["key"] for r in first] == [None, "null", '"quoted"', "quoted"]
    assert [r["value"] for r in first] == [{"n": i} for i in range(4)]
    for r in first:
        when = datetime.fromisoformat(str(r["time"]).replace("Z", "+00:00"))
        assert round(when.timestamp() * 1000) == r["timestamp"]
    every = tail(broker, datadir, topic, "--from-beginning")
    assert [r["offset"] for r in every] == list(range(12))
    some = tail(broker, datadir, topic, "--partition", "0", "--offset", "9")
    assert [r["offset"] for r in some] == [9, 10, 11]
    assert tail(broker, datadir, topic, "-n", "0") == []


def test_tail_on_the_embedded_broker(tmp_path: Path) -> None:
    check_tail("local://", tmp_path)


@pytest.mark.kafka
def test_tail_on_kafka_reads_to_the_end_offsets_every_time(
    kafka_broker: str, tmp_path: Path
) -> None:
    check_tail(f"kafka://{kafka_broker}", tmp_path)


def test_a_partition_is_shown_in_offset_order_whatever_its_timestamps(tmp_path: Path) -> None:
    """(#9 review) producer-set timestamps out of order: a partition's order is its offsets;
    partitions are merged by timestamp."""
    from streamctl.transport import open_transport
    from streamctl.transport.base import TopicSpec

    transport = open_transport("local://", datadir=tmp_path)
    transport.create_topics([TopicSpec("t", 2)])
    producer = transport.producer()
    for i, ts in enumerate([5_000, 1_000, 3_000]):
        producer.send("t", b"k", b"%d" % i, partition=0, timestamp=ts)
    producer.send("t", b"k", b"9", partition=1, timestamp=2_000)
    producer.flush()
    producer.close()
    transport.close()
    result = cli("topic", "tail", "t", "--from-beginning", "-d", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    shown = [(r["partition"], r["offset"]) for r in map(json.loads, result.stdout.splitlines())]
    assert [o for p, o in shown if p == 0] == [0, 1, 2]
    # heads compared by timestamp: partition 1's 2,000 before partition 0's first (5,000)
    assert shown == [(1, 0), (0, 0), (0, 1), (0, 2)]
