"""``streamctl table get/dump`` on a Kafka worker's data dir while another worker, on a
data dir of its own, owns some partitions: those are read from their changelogs, so the
answers are the whole table's (#15 review: they were "no key" and half a dump)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from kafka_support import (
    SCALE_PIPELINE,
    TWO,
    expected_tables,
    produce,
    read_tables,
    start_worker,
    wait_for_log,
)
from support import ROOT

from streamctl.transport.partitioner import partition_for

pytestmark = pytest.mark.kafka

EVENTS = 200


def table_cmd(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "streamctl.cli.main", "table", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
    )


def test_get_and_dump_read_the_partitions_a_worker_elsewhere_owns(
    kafka_broker: str, tmp_path: Path
) -> None:
    run = f"tkp{uuid.uuid4().hex[:8]}"
    pipeline = tmp_path / "p.yaml"
    text = SCALE_PIPELINE.format(
        app=f"t15-{run}",
        run=run,
        scheme="kafka",
        bootstrap=kafka_broker,
        batch=50,
        guarantee="at_least_once",
        replicas=0,
    )
    # a windowed table too: its windows of the other worker's partitions count as well
    text = text.replace(
        "  revenue:", "  hourly: {default: int, window: {tumbling: 1h}}\n  revenue:"
    ).replace("      - count: orders\n", "      - count: orders\n      - count: hourly\n")
    pipeline.write_text(text)
    produce(kafka_broker, f"sales-{run}", 0)
    a_log, b_log = tmp_path / "a.log", tmp_path / "b.log"
    a = start_worker(pipeline, tmp_path / "a", a_log)
    b = None
    try:
        wait_for_log(a_log, r"assigned sales-\w+\[0,1,2,3\]", a, timeout=60)
        b = start_worker(pipeline, tmp_path / "b", b_log)
        owned = {int(p) for p in wait_for_log(b_log, TWO, b, timeout=60).groups()}
        wait_for_log(a_log, TWO, a, timeout=60)
        produce(kafka_broker, f"sales-{run}", EVENTS)
        counts, _ = expected_tables(EVENTS)
        deadline = time.monotonic() + 60
        while read_tables(pipeline, tmp_path / "check", "orders")[0] != counts:
            assert time.monotonic() < deadline, "the workers did not count every event"
            time.sleep(1)
        key = next(k for k in sorted(counts) if partition_for(k.encode(), 4) in owned)
        got = table_cmd("get", str(pipeline), "orders", key, "-d", str(tmp_path / "a"))
        assert got.returncode == 0, got.stderr
        assert json.loads(got.stdout) == counts[key]
        dumped = table_cmd("dump", str(pipeline), "orders", "-d", str(tmp_path / "a"))
        assert dumped.returncode == 0, dumped.stderr
        assert json.loads(dumped.stdout) == counts
        windows = table_cmd("dump", str(pipeline), "hourly", "-d", str(tmp_path / "a"))
        assert windows.returncode == 0, windows.stderr
        rows = json.loads(windows.stdout)
        assert {r["key"] for r in rows} == set(counts)
        assert sum(r["value"] for r in rows) == EVENTS
        missing = table_cmd("get", str(pipeline), "orders", "nobody", "-d", str(tmp_path / "a"))
        assert missing.returncode == 1
        assert "has no key 'nobody'" in missing.stderr
    finally:
        for proc in (a, b):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in (a, b):
            if proc is not None:
                proc.wait(60)
