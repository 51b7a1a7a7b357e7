"""Raw kafka-python throughput on the real broker: the ceiling the kafka:// transport aims at.

    python bench/kafka_raw.py [--bootstrap 127.0.0.1:19092] [--events 200000]

Produces ``--events`` JSON events (~100 bytes, 1,000 keys) into a fresh
4-partition topic, then times three consume loops over them, each decoding
every value with ``json.loads``: kafka-python alone (tuned fetch settings),
and streamctl's KafkaTransport consumer. Needs a running broker
(``scripts/kafka.sh start``). ``run()`` is the entry point for bench/bench.py.
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
# Fetch settings tuned for throughput: big fetches, big polls.
CONSUMER_TUNING: dict[str, Any] = {
    "fetch_max_bytes": 64 * 1024 * 1024,
    "max_partition_fetch_bytes": 8 * 1024 * 1024,
    "fetch_min_bytes": 1,
    "fetch_max_wait_ms": 100,
    "max_poll_records": 10_000,
    "check_crcs": False,
}


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


def consume_transport(bootstrap: str, topic: str, events: int) -> float:
    from streamctl.transport import TopicPartition as TP
    from streamctl.transport import open_transport

    transport = open_transport(f"kafka://{bootstrap}", datadir=Path("."), check_crcs=False)
    consumer = transport.consumer(None)
    consumer.assign([TP(topic, p) for p in range(PARTITIONS)])
    loads = json.loads
    seen = 0
    started = time.perf_counter()
    while seen < events:
        batch = consumer.poll(max_records=10_000, timeout=1.0)
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
    raw_s = consume_raw(bootstrap, topic, events)
    transport_s = consume_transport(bootstrap, topic, events)
    return {
        "events": events,
        "produce_eps": events / produce_s,
        "consume_raw_eps": events / raw_s,
        "consume_transport_eps": events / transport_s,
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
    print(f"consume raw kafka-python + json.loads:      {result['consume_raw_eps']:,.0f} events/s")
    print(
        f"consume streamctl KafkaTransport + json:    {result['consume_transport_eps']:,.0f} events/s"
    )


if __name__ == "__main__":
    main()
