"""Raw client loops on the real broker: the ceilings the Kafka transports are measured against.

    python bench/kafka_raw.py [--bootstrap 127.0.0.1:19092] [--events 200000]

Produces ``--events`` JSON events (~100 bytes, 1,000 keys) into a fresh
4-partition topic, then times four consume loops over them, each decoding every
value with ``json.loads``: kafka-python alone and confluent-kafka (librdkafka)
alone (both tuned for throughput, record CRCs checked as streamctl's transports
check them by default), and streamctl's consumer on each (``kafka://`` and
``kafka+confluent://``, their default settings). Needs a running broker
(``scripts/kafka.sh start``). bench/kafka_scenarios.py times the same loops
for bench/bench.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

PARTITIONS = 4
KEYS = 1000
# kafka-python's fetch settings tuned for throughput: big fetches, big polls. Record
# CRCs are checked (kafka-python's default; in C when the crc32c package is importable).
CONSUMER_TUNING: dict[str, Any] = {
    "fetch_max_bytes": 64 * 1024 * 1024,
    "max_partition_fetch_bytes": 8 * 1024 * 1024,
    "fetch_min_bytes": 1,
    "fetch_max_wait_ms": 100,
    "max_poll_records": 10_000,
}
# librdkafka's, likewise; check.crcs on, as the kafka+confluent transport sets it
CONFLUENT_TUNING: dict[str, Any] = {
    "fetch.max.bytes": 64 * 1024 * 1024,
    "max.partition.fetch.bytes": 8 * 1024 * 1024,
    "fetch.wait.max.ms": 100,
    "check.crcs": True,
}
#: records per poll of the raw loops and of the streamctl transport loops
POLL_RECORDS = 10_000


def make_event(i: int) -> tuple[bytes, bytes]:
    key = f"customer-{i % KEYS:04d}"
    value = {
        "id": i,
        "customer_id": key,
        "quantity": 1 + i % 7,
        "price": "19.99",
        "sku": f"S-{i % 5000:05d}",
        "ts": 1_700_000_000 + i,
    }
    return key.encode(), json.dumps(value, separators=(",", ":")).encode()


def produce(bootstrap: str, topic: str, events: int) -> float:
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics({topic: {"num_partitions": PARTITIONS}}, wait_for_metadata=True)
    admin.close()
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks=1, linger_ms=20, batch_size=1024 * 1024
    )
    started = time.perf_counter()
    for i in range(events):
        key, value = make_event(i)
        producer.send(topic, value=value, key=key)
    producer.flush()
    elapsed = time.perf_counter() - started
    producer.close()
    return elapsed


def consume_raw(bootstrap: str, topic: str, events: int) -> float:
    """Seconds for kafka-python alone to read and decode ``events`` records of ``topic``."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, **CONSUMER_TUNING
    )
    consumer.assign([TopicPartition(topic, p) for p in range(PARTITIONS)])
    consumer.seek_to_beginning()
    loads = json.loads
    seen = 0
    started = time.perf_counter()
    while seen < events:
        for records in consumer.poll(timeout_ms=1000).values():
            for record in records:
                loads(record.value)
            seen += len(records)
    elapsed = time.perf_counter() - started
    consumer.close(autocommit=False)
    return elapsed


def consume_confluent_raw(bootstrap: str, topic: str, events: int) -> float:
    """Seconds for confluent-kafka alone to read and decode ``events`` records of ``topic``."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer
    from confluent_kafka import TopicPartition as CKTP

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"bench-raw-{uuid.uuid4().hex[:8]}",  # never joins nor commits
            "enable.auto.commit": False,
            **CONFLUENT_TUNING,
        }
    )
    consumer.assign([CKTP(topic, p, OFFSET_BEGINNING) for p in range(PARTITIONS)])
    loads = json.loads
    seen = 0
    started = time.perf_counter()
    while seen < events:
        batch = consumer.consume(POLL_RECORDS, 1.0)
        for m in batch:
            if m.error() is None:
                loads(m.value())
                seen += 1
    elapsed = time.perf_counter() - started
    consumer.close()
    return elapsed


def consume_transport(bootstrap: str, topic: str, events: int, scheme: str = "kafka") -> float:
    """Seconds for streamctl's ``scheme`` consumer (default settings) to read and decode
    ``events`` records of ``topic``."""
    from streamctl.transport import TopicPartition as TP
    from streamctl.transport import open_transport

    transport = open_transport(f"{scheme}://{bootstrap}", datadir=Path("."))
    consumer = transport.consumer(None)
    consumer.assign([TP(topic, p) for p in range(PARTITIONS)])
    for p in range(PARTITIONS):
        consumer.seek(TP(topic, p), 0)
    loads = json.loads
    seen = 0
    started = time.perf_counter()
    while seen < events:
        batch = consumer.poll(max_records=POLL_RECORDS, timeout=1.0)
        for message in batch:
            loads(message.value)
        seen += len(batch)
    elapsed = time.perf_counter() - started
    consumer.close()
    transport.close()
    return elapsed


def run(bootstrap: str = "127.0.0.1:19092", events: int = 200_000) -> dict[str, float]:
    """Produce then consume ``events`` records; return events/s for each phase."""
    topic = f"bench-raw-{uuid.uuid4().hex[:8]}"
    produce_s = produce(bootstrap, topic, events)
    return {
        "events": events,
        "produce_eps": events / produce_s,
        "consume_raw_eps": events / consume_raw(bootstrap, topic, events),
        "consume_transport_eps": events / consume_transport(bootstrap, topic, events),
        "consume_confluent_raw_eps": events / consume_confluent_raw(bootstrap, topic, events),
        "consume_confluent_transport_eps": events
        / consume_transport(bootstrap, topic, events, "kafka+confluent"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", default="127.0.0.1:19092")
    parser.add_argument("--events", type=int, default=200_000)
    args = parser.parse_args()
    print("command:", " ".join([Path(sys.executable).name, *sys.argv]))
    print(f"value size: {len(make_event(0)[1])} bytes, {KEYS} keys, {PARTITIONS} partitions")
    result = run(args.bootstrap, args.events)
    print(f"produce (kafka-python, acks=1, linger 20 ms): {result['produce_eps']:,.0f} events/s")
    for label, key in (
        ("consume raw kafka-python + json.loads:", "consume_raw_eps"),
        ("consume streamctl kafka:// + json.loads:", "consume_transport_eps"),
        ("consume raw confluent-kafka + json.loads:", "consume_confluent_raw_eps"),
        ("consume streamctl kafka+confluent:// + json:", "consume_confluent_transport_eps"),
    ):
        print(f"{label:<46} {result[key]:,.0f} events/s")


if __name__ == "__main__":
    main()
