"""Standby replicas on Kafka: two workers, one SIGKILLed; the survivor takes over its
partitions, replaying only what its standby had not read (without standbys: all of it),
and the tables end as a single worker's run leaves them. Prints the failover time."""

from __future__ import annotations

import re
import signal
import time
import urllib.request
from pathlib import Path

import pytest
from kafka_support import (
    SCALE_PIPELINE,
    TWO,
    count_records,
    finish,
    produce,
    read_tables,
    start_worker,
    wait_for_log,
)
from prometheus_client.parser import text_string_to_metric_families

from streamctl.naming import consumer_group
from streamctl.transport import open_transport

pytestmark = pytest.mark.kafka

FIRST, SECOND = 1200, 400


def metrics(log: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The worker's /metrics samples: (name, sorted labels) -> value."""
    url = re.search(r"web view on (http://\S+/)", log.read_text())
    assert url is not None, log.read_text()[-2000:]
    with urllib.request.urlopen(url.group(1) + "metrics", timeout=10) as resp:
        text = resp.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def per_partition(samples: dict, name: str, table: str = "orders") -> dict[int, float]:
    return {
        int(dict(labels)["partition"]): value
        for (n, labels), value in samples.items()
        if n == name and dict(labels).get("table") == table
    }


def wait_committed(
    bootstrap: str, app: str, topic: str, total: int, where: Path, timeout: float = 40
) -> None:
    """Wait until the app's group has committed ``total`` records of ``topic``."""
    transport = open_transport(f"kafka://{bootstrap}", datadir=where)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            offsets = transport.group_offsets(consumer_group(app))
            if sum(n for tp, n in offsets.items() if tp.topic == topic) >= total:
                return
            time.sleep(0.1)
        raise AssertionError(f"{app}: fewer than {total} records of {topic} committed")
    finally:
        transport.close()


def first_record_time(bootstrap: str, topic: str, starts: dict[int, int]) -> float:
    """The timestamp (seconds) of the earliest record at or after ``starts`` (partition ->
    offset) in ``topic``: when the new owner first wrote there."""
    from kafka import KafkaConsumer
    from kafka import TopicPartition as KTP

    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        consumer.assign([KTP(topic, p) for p in starts])
        for p, offset in starts.items():
            consumer.seek(KTP(topic, p), offset)
        found: list[int] = []
        deadline = time.monotonic() + 40
        while not found and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                found += [r.timestamp for r in records]
        assert found, f"no records after {starts} in {topic}"
        return min(found) / 1000.0
    finally:
        consumer.close()


@pytest.mark.parametrize(
    ("replicas", "guarantee"),
    # exactly-once: the standby reads committed records only, past transaction markers
    [(1, "at_least_once"), (1, "exactly_once"), (0, "at_least_once")],
)
def test_survivor_resumes_from_its_standby_and_ends_as_one_worker_would(
    kafka_broker: str, tmp_path: Path, run_id: str, replicas: int, guarantee: str
) -> None:
    app = f"standby-{run_id}"
    sales, changelog = f"sales-{run_id}", f"{app}-orders-changelog"
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(
        SCALE_PIPELINE.format(
            app=app,
            scheme="kafka",
            run=run_id,
            bootstrap=kafka_broker,
            batch=100,
            guarantee=guarantee,
            replicas=replicas,
        )
    )
    produce(kafka_broker, sales, 0)  # the topic, empty: no worker holds a partition early
    logs = {w: tmp_path / f"{w}.log" for w in ("a", "b", "single")}
    procs = {w: start_worker(pipeline, tmp_path / w, logs[w], "--metrics-port", "0") for w in "ab"}
    try:
        halves = {w: wait_for_log(logs[w], TWO, procs[w], 40) for w in "ab"}
        killed = {int(p) for p in halves["a"].groups()}
        produce(kafka_broker, sales, FIRST)
        wait_committed(kafka_broker, app, sales, FIRST, tmp_path)
        # every record is in the changelog; the standby lag is refreshed once a second
        time.sleep(1.1)
        at_kill = {p: count_records(kafka_broker, changelog, {p}) for p in killed}
        assert all(at_kill.values()), at_kill
        behind: dict[int, float] = {}
        if replicas:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                behind = per_partition(metrics(logs["b"]), "streamctl_standby_lag")
                if set(behind) == killed and not any(behind.values()):
                    break
                time.sleep(0.2)
            # b keeps standbys of exactly a's partitions, and has read them to the end
            assert behind == dict.fromkeys(killed, 0.0), behind

        killed_at = time.time()
        procs["a"].send_signal(signal.SIGKILL)
        procs["a"].wait(10)
        produce(kafka_broker, sales, SECOND, start=FIRST)
        failover = first_record_time(kafka_broker, changelog, at_kill) - killed_at
        # one worker alone over the same input, from the start to the end, meanwhile
        single = tmp_path / "single.yaml"
        single.write_text(pipeline.read_text().replace(f"app: {app}", f"app: {app}-single"))
        procs["single"] = start_worker(single, tmp_path / "s", logs["single"], "--until-idle")
        wait_committed(kafka_broker, app, sales, FIRST + SECOND, tmp_path)
        log_b = logs["b"].read_text()
        assert re.search(r"assigned sales-\w+\[0,1,2,3\]", log_b), log_b[-2000:]
        replayed = per_partition(metrics(logs["b"]), "streamctl_recovery_target_records")
        procs["b"].send_signal(signal.SIGTERM)
        finish(procs["b"], logs["b"], 30)
        finish(procs["single"], logs["single"], 30)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)

    took_over = {p: int(replayed[p]) for p in killed}
    if replicas:
        # at most what the standby had not read when a died (it had read everything)
        assert all(took_over[p] <= behind[p] for p in killed), (took_over, behind)
        assert "now active: resuming from their offsets" in log_b
    else:
        assert took_over == at_kill  # the whole changelog partition, replayed
    print(
        f"{guarantee}, standby replicas {replicas}: replayed at takeover {took_over} of changelog "
        f"partitions holding {at_kill}; failover (kill to first processed event) "
        f"{failover:.2f}s"
    )

    want = read_tables(single, tmp_path / "check-single", "orders", "revenue")
    got = read_tables(pipeline, tmp_path / "check", "orders", "revenue")
    assert got == want
    assert sum(got[0].values()) == FIRST + SECOND  # nothing counted twice or lost
