"""The broker goes away mid-run and comes back: the worker waits, resumes, loses nothing.

At-least-once and exactly-once, on the kafka:// transport.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka_support import (
    expected_tables,
    finish,
    produce,
    start_worker,
    wait_for_records,
    wait_stable,
)
from support import KAFKA_SCRIPT, ROOT, cli, kafka_reachable

pytestmark = pytest.mark.kafka

N = 3000
PORT = int(os.environ.get("STREAMCTL_KAFKA_OUTAGE_PORT", "19192"))
PIPELINE = """
app: outage
broker: {scheme}://127.0.0.1:{port}
topics:
  in: {{partitions: 4}}
  out: {{partitions: 4}}
tables:
  seen: {{default: int}}
settings:
  processing_guarantee: {guarantee}
  max_poll_records: 10
  commit_interval: 0           # a commit per batch: the outage always meets one
  broker_wait_timeout: 120
broker_settings:
  request_timeout_ms: 8000
  session_timeout_ms: 6000
  heartbeat_interval_ms: 1000
agents:
  copy:
    from: in
    steps:
      - count: seen
      - to: out
"""


def kafka(command: str, state: Path) -> None:
    """``scripts/kafka.sh COMMAND`` for this test's own broker (stopped by its pidfile PID)."""
    env = dict(
        os.environ,
        PYTHON=sys.executable,
        STREAMCTL_KAFKA_PORT=str(PORT),
        STREAMCTL_KAFKA_STATE=str(state),
    )
    res = subprocess.run(
        ["bash", str(KAFKA_SCRIPT), command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=150,
    )
    if res.returncode != 0:
        pytest.fail(f"kafka.sh {command} on port {PORT} failed:\n{res.stderr[-3000:]}")


@pytest.fixture
def own_broker(kafka_broker: str, tmp_path: Path) -> Iterator[Path]:
    """A broker of this test's own (the shared one may serve other tests): its state dir."""
    state = tmp_path / "kafka"
    kafka("start", state)
    try:
        yield state
    finally:
        kafka("stop", state)


@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once"])
# kafka+confluent:// is not here yet: its standby choice raised the admin future's bare
# TimeoutError after the restart (fixed); it then passed 2 of 2 runs per guarantee, but
# failed again in a clean-clone CI run on this 2-core machine: kafka:// only until the
# remaining cause is found (#14's note)
@pytest.mark.parametrize("scheme", ["kafka"])
def test_broker_restart_mid_run_loses_no_event(
    own_broker: Path, tmp_path: Path, guarantee: str, scheme: str
) -> None:
    bootstrap = f"127.0.0.1:{PORT}"
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(PIPELINE.format(scheme=scheme, port=PORT, guarantee=guarantee))
    produce(bootstrap, "in", N)
    log = tmp_path / "worker.log"
    proc = start_worker(pipeline, tmp_path / "data", log, "--until-idle")
    try:
        wait_for_records(bootstrap, "out", {0, 1, 2, 3}, 300, timeout=40)
        assert proc.poll() is None, "the worker finished before the broker went away"
        kafka("stop", own_broker)  # by the pidfile's PID; the data dir stays
        # longer than the client's request timeout (8 s): the client's own retries cannot
        # hide the outage, so the worker's wait-and-resume path must run
        time.sleep(10)
        assert proc.poll() is None, log.read_text()[-3000:]
        kafka("start", own_broker)
        text = finish(proc, log, 120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert kafka_reachable(bootstrap)
    assert "waiting for the broker" in text or "retrying" in text or "back" in text, text[-3000:]

    from kafka import KafkaConsumer, TopicPartition

    wait_stable(bootstrap, ["out"])
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, isolation_level="read_committed")
    tps = [TopicPartition("out", p) for p in range(4)]
    consumer.assign(tps)
    consumer.seek_to_beginning()
    ends = consumer.end_offsets(tps)
    ids: Counter[int] = Counter()
    deadline = time.monotonic() + 60  # read to the end, however slow the machine is
    while any(consumer.position(tp) < ends[tp] for tp in tps) and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=500).values():
            ids.update(json.loads(r.value)["id"] for r in records)
    consumer.close()
    lost = len(set(range(N)) - set(ids))
    assert not lost, f"lost {lost} event(s); worker log:\n{text[-3000:]}"
    repeats = sum(ids.values()) - N
    print(f"broker restart: every event delivered; {repeats} repeated ({guarantee})")
    if guarantee == "exactly_once":
        assert repeats == 0, f"worker log:\n{text[-3000:]}"
        dumped = cli("table", "dump", pipeline, "seen", "-d", tmp_path / "data")
        assert dumped.exit_code == 0, dumped.stderr
        assert json.loads(dumped.stdout) == expected_tables(N)[0], text[-3000:]
