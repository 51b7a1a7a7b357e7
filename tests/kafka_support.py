"""Helpers for tests that run ``streamctl run`` workers against a real Kafka broker."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from support import ROOT

from streamctl.app import App
from streamctl.pipeline import load_pipeline

CUSTOMERS = 40
#: a stateful pipeline for several workers on Kafka: format with app, run (the id in
#: the input topic's name), bootstrap, batch, guarantee and replicas (standbys)
SCALE_PIPELINE = """
app: {app}
broker: {scheme}://{bootstrap}
topics:
  sales-{run}: {{partitions: 4}}
tables:
  orders: {{default: int}}
  revenue: {{default: float}}
settings:
  max_poll_records: {batch}
  commit_interval: 0          # commit every batch: the kill must find committed changelog
  processing_guarantee: {guarantee}
  table_standby_replicas: {replicas}
broker_settings:
  session_timeout_ms: 6000
  heartbeat_interval_ms: 500
agents:
  tally:
    from: sales-{run}
    steps:
      - count: orders
      - add: {{table: revenue, value: amount}}
"""
#: a worker's log line when it holds two of the four partitions (their numbers)
TWO = r"(?m)assigned sales-\w+\[(\d),(\d)\]$"


def amount_of(customer: int) -> float:
    """Every event of one customer has the same amount: a repeat adds exactly that."""
    return float(customer + 1)


def produce(bootstrap: str, topic: str, events: int, *, start: int = 0) -> None:
    """``events`` sales over CUSTOMERS keys into a 4-partition topic (created if need be)."""
    app = App("test-feeder", broker=f"kafka://{bootstrap}", datadir=Path("/nonexistent"))
    t = app.topic(topic, partitions=4, key_type=str)
    app.ensure_topics()
    for i in range(start, start + events):
        c = i % CUSTOMERS
        t.send_soon(key=f"c{c:02d}", value={"id": i, "amount": amount_of(c)})
    app.producer.flush()
    app.close()


def expected_tables(events: int) -> tuple[dict[str, int], dict[str, float]]:
    counts: dict[str, int] = {}
    for i in range(events):
        key = f"c{i % CUSTOMERS:02d}"
        counts[key] = counts.get(key, 0) + 1
    revenue = {k: n * amount_of(int(k[1:])) for k, n in counts.items()}
    return counts, revenue


def start_worker(pipeline: Path, datadir: Path, log: Path, *args: str) -> subprocess.Popen[bytes]:
    """``streamctl run PIPELINE -d DATADIR ARGS`` with its stderr in ``log``."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=str(ROOT))
    with open(log, "wb") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "streamctl.cli.main", "run", str(pipeline), "-d", str(datadir)]
            + list(args),
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
            cwd=ROOT,
        )


def wait_for_log(
    log: Path, pattern: str, proc: subprocess.Popen[bytes], timeout: float = 30
) -> re.Match[str]:
    """Wait until a line of ``log`` matches ``pattern``; fail if ``proc`` exits first."""
    deadline = time.monotonic() + timeout
    rx = re.compile(pattern)
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        found = list(rx.finditer(text))
        if found:
            return found[-1]
        if proc.poll() is not None:
            raise AssertionError(f"worker exited ({proc.returncode}) first:\n{text[-3000:]}")
        time.sleep(0.1)
    raise AssertionError(f"no {pattern!r} in {log} after {timeout}s:\n{log.read_text()[-3000:]}")


def count_records(bootstrap: str, topic: str, partitions: set[int]) -> int:
    """How many records ``partitions`` of ``topic`` hold between them (their end offsets)."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        tps = [TopicPartition(topic, p) for p in partitions]
        return int(sum(consumer.end_offsets(tps).values()))
    finally:
        consumer.close()


def wait_for_records(
    bootstrap: str, topic: str, partitions: set[int], at_least: int, timeout: float = 30
) -> None:
    """Wait until ``partitions`` of ``topic`` hold ``at_least`` records between them."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        tps = [TopicPartition(topic, p) for p in partitions]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sum(consumer.end_offsets(tps).values()) >= at_least:
                return
            time.sleep(0.05)
        raise AssertionError(f"{topic}{sorted(partitions)}: fewer than {at_least} records")
    finally:
        consumer.close()


def finish(proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> str:
    """Wait for a worker to exit 0; return its log."""
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
        text = log.read_text()[-3000:]
        raise AssertionError(f"worker did not finish in {timeout}s:\n{text}") from None
    text = log.read_text(errors="replace")
    assert proc.returncode == 0, text[-3000:]
    return text


def wait_stable(bootstrap: str, topics: list[str], timeout: float = 40) -> None:
    """Wait until no open transaction holds back read_committed readers of ``topics``."""
    from kafka import KafkaConsumer, TopicPartition

    plain = KafkaConsumer(bootstrap_servers=bootstrap)
    committed = KafkaConsumer(bootstrap_servers=bootstrap, isolation_level="read_committed")
    try:
        tps = [TopicPartition(t, p) for t in topics for p in plain.partitions_for_topic(t) or ()]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if plain.end_offsets(tps) == committed.end_offsets(tps):
                return
            time.sleep(0.5)
        raise AssertionError(f"transactions on {topics} still open after {timeout}s")
    finally:
        plain.close()
        committed.close()


def read_tables(pipeline: Path, datadir: Path, *names: str) -> list[dict[Any, Any]]:
    """The tables' contents rebuilt from their changelogs into a fresh data dir."""
    app = load_pipeline(pipeline, datadir=datadir).app
    try:
        out = []
        for name in names:
            table = app.tables[name]
            table.recover(app.transport)
            out.append(dict(table.items()))
        return out
    finally:
        app.close()
