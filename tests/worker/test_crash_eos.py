"""Exactly-once on the embedded broker: SIGKILLs at random moments repeat and lose nothing."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from support import cli, read_topic, streamctl_process

from streamctl.app import App
from streamctl.transport import open_transport
from streamctl.transport.base import TopicPartition
from streamctl.transport.exceptions import TransportError

N = 50_000
KILLS = 10
PIPELINE = """
app: eos-crashy
topics:
  in: {partitions: 4, key_type: str}
  out: {partitions: 4}
tables:
  counts: {default: int}
  per_group: {default: int}
settings:
  max_poll_records: 8     # small batches, a commit after each: commits take most of the time
  commit_interval: 0
agents:
  count:
    from: in
    steps:
      - count: counts
      - map: {id: id, g: g}
      - to: out
  regroup:
    from: in
    steps:
      - group_by: g
      - count: per_group
"""


def feed(data: Path) -> None:
    app = App("feeder", datadir=data)
    topic = app.topic("in", partitions=4, key_type=str)
    app.ensure_topics()
    for i in range(N):
        topic.send_soon(key=f"k{i % 97}", value={"id": i, "g": f"g{i % 13}"})
    app.producer.flush()
    app.close()


def test_ten_sigkills_at_random_moments_leave_tables_and_output_exact(tmp_path: Path) -> None:
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(PIPELINE)
    data = tmp_path / "data"
    feed(data)
    rng = random.Random(9)
    # Kill moments are drawn over the run, not over wall time (a quiet machine processes
    # 50k events in about a second): every third kill comes while the worker starts or
    # recovers, the others once the output has reached a random count below N.
    marks = iter(sorted(rng.sample(range(N // 20, N - N // 20), KILLS)))
    killed = 0
    for i in range(KILLS):
        proc = streamctl_process("run", pipeline, "-d", data)
        if i % 3 == 0:
            time.sleep(rng.uniform(0.05, 0.6))
            next(marks)
        else:
            _wait_for_outputs(data, next(marks), proc)
            time.sleep(rng.uniform(0.0, 0.02))
        if proc.poll() is not None:
            raise AssertionError(proc.communicate())
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        killed += 1
    assert killed == KILLS
    outputs_at_last_kill = len(read_topic(data, "out"))
    assert outputs_at_last_kill < N, "the kills came too late to test anything"

    proc = streamctl_process("run", pipeline, "-d", data, "--until-idle")
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err

    ids = Counter(json.loads(m.value)["id"] for m in read_topic(data, "out"))
    assert sorted(ids) == list(range(N)), "an event is missing from the output"
    assert max(ids.values()) == 1, f"{sum(c > 1 for c in ids.values())} output(s) repeated"
    counts = json.loads(cli("table", "dump", pipeline, "counts", "-d", data).stdout)
    expected = Counter(f"k{i % 97}" for i in range(N))
    assert counts == dict(expected)
    per_group = json.loads(cli("table", "dump", pipeline, "per_group", "-d", data).stdout)
    assert per_group == dict(Counter(f"g{i % 13}" for i in range(N)))


def _wait_for_outputs(data: Path, at_least: int, proc: subprocess.Popen[str]) -> None:
    """Until the committed output of ``out`` holds ``at_least`` records (60 s at most)."""
    transport = open_transport("local://", datadir=data)
    try:
        consumer = transport.consumer(None)
        tps = [TopicPartition("out", p) for p in range(4)]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if sum(consumer.end_offsets(tps).values()) >= at_least:
                    return
            except TransportError:
                pass  # the worker has not created the topic yet
            time.sleep(0.01)
        raise AssertionError(f"no {at_least} outputs in time: {proc.poll()=}")
    finally:
        transport.close()


CRASH_AFTER_BROKER_COMMIT = """
import os, sys
from streamctl.pipeline import load_pipeline
from streamctl.worker import commit

calls = 0
real_apply = commit.apply

def apply(state, metadata):
    global calls
    calls += 1
    if calls == %d:   # the broker transaction committed; the stores never see this batch
        os._exit(137)
    real_apply(state, metadata)

commit.apply = apply
sys.exit(load_pipeline(sys.argv[1], datadir=sys.argv[2]).app.run())
"""

CRASH_BEFORE_BROKER_COMMIT = """
import os, sys
from streamctl.pipeline import load_pipeline
from streamctl.transport.local import LocalProducer

calls = 0
real_commit = LocalProducer.commit_transaction

def commit_transaction(self, offsets, consumer):
    global calls
    calls += 1
    if calls == %d:   # records flushed into the open SQLite transaction, never committed
        self.flush()
        os._exit(137)
    real_commit(self, offsets, consumer)

LocalProducer.commit_transaction = commit_transaction
sys.exit(load_pipeline(sys.argv[1], datadir=sys.argv[2]).app.run())
"""


def _crash_then_finish(tmp_path: Path, script: str) -> tuple[Path, Path, int]:
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(PIPELINE.replace("max_poll_records: 8", "max_poll_records: 200"))
    data = tmp_path / "data"
    feed(data)
    res = subprocess.run(
        [sys.executable, "-c", script % 5, str(pipeline), str(data)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert res.returncode == 137, res.stderr
    visible = len(read_topic(data, "out"))
    proc = streamctl_process("run", pipeline, "-d", data, "--until-idle")
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    return pipeline, data, visible


def _assert_exact(pipeline: Path, data: Path) -> None:
    ids = Counter(json.loads(m.value)["id"] for m in read_topic(data, "out"))
    assert sorted(ids) == list(range(N)) and max(ids.values()) == 1
    counts = json.loads(cli("table", "dump", pipeline, "counts", "-d", data).stdout)
    assert counts == dict(Counter(f"k{i % 97}" for i in range(N)))


def test_crash_between_the_broker_commit_and_the_stores_catches_up_by_replay(
    tmp_path: Path,
) -> None:
    pipeline, data, visible = _crash_then_finish(tmp_path, CRASH_AFTER_BROKER_COMMIT)
    assert visible > 0  # four batches and the fifth's outputs were committed before the crash
    _assert_exact(pipeline, data)


def test_crash_inside_the_transaction_leaves_nothing_visible_and_repeats_nothing(
    tmp_path: Path,
) -> None:
    pipeline, data, visible = _crash_then_finish(tmp_path, CRASH_BEFORE_BROKER_COMMIT)
    assert 0 < visible <= 4 * 200  # the four committed batches only, never the flushed fifth
    _assert_exact(pipeline, data)
