"""Worker processes killed mid-run: nothing lost (SIGKILL), nothing repeated (SIGTERM)."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from pathlib import Path

from support import read_topic, streamctl_process

from streamctl.app import App
from streamctl.transport.base import TopicPartition
from streamctl.transport.local import LocalTransport

N = 3000
PIPELINE = """
app: crashy
topics:
  in: {partitions: 4}
  out: {partitions: 4}
settings:
  processing_guarantee: at_least_once   # these tests pin at-least-once (test_crash_eos.py: exactly-once)
  max_poll_records: 40
  commit_interval: 0        # commit after every batch: the tests reason per batch
agents:
  copy:
    from: in
    use: crash_agents:slow_copy
    to: out
"""
PLUGIN = """
import asyncio

async def slow_copy(stream):
    async for event in stream.events():
        await asyncio.sleep(0.0005)
        m = event.message
        yield {"id": event.value["id"], "src": [m.partition, m.offset]}
"""


def setup(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "crash_agents.py").write_text(PLUGIN)
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(PIPELINE)
    data = tmp_path / "data"
    app = App("feeder", datadir=data)
    topic = app.topic("in", partitions=4, key_type=str)
    app.topic("out", partitions=4)
    app.ensure_topics()
    for i in range(N):
        topic.send_soon(key=f"k{i % 50}", value={"id": i})
    app.producer.flush()
    app.close()
    return pipeline, data


def wait_for_output(data: Path, at_least: int, proc) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if len(read_topic(data, "out")) >= at_least:
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("the worker produced too little output in 60 s")


def committed_offsets(data: Path) -> dict[int, int]:
    t = LocalTransport(datadir=data)
    try:
        c = t.consumer("crashy")
        return {p: c.committed(TopicPartition("in", p)) or 0 for p in range(4)}
    finally:
        t.close()


def test_sigkill_mid_run_loses_nothing_and_repeats_only_uncommitted_events(tmp_path: Path) -> None:
    pipeline, data = setup(tmp_path)
    proc = streamctl_process("run", pipeline, "-d", data)
    wait_for_output(data, 600, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert proc.returncode == -signal.SIGKILL

    before = read_topic(data, "out")
    commit_at_kill = committed_offsets(data)
    assert 0 < len(before) < N, "kill happened too late to test anything"

    proc = streamctl_process("run", pipeline, "-d", data, "--until-idle")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err

    outputs = [json.loads(m.value) for m in read_topic(data, "out")]
    counts = Counter(o["id"] for o in outputs)
    assert set(counts) == set(range(N)), "an input event was lost"
    repeated = {i for i, c in counts.items() if c > 1}
    assert all(c <= 2 for c in counts.values())
    # exactly the events processed after the last commit before the kill were repeated
    expected = {
        o["id"]
        for o in (json.loads(m.value) for m in before)
        if o["src"][1] >= commit_at_kill[o["src"][0]]
    }
    assert repeated == expected
    print(f"repeated after SIGKILL: {len(repeated)} event(s): {sorted(repeated)[:20]}...")


def test_sigterm_finishes_the_batch_commits_and_exits_0(tmp_path: Path) -> None:
    pipeline, data = setup(tmp_path)
    proc = streamctl_process("run", pipeline, "-d", data)
    wait_for_output(data, 300, proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    # every output written was committed: a restart repeats nothing
    proc = streamctl_process("run", pipeline, "-d", data, "--until-idle")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    counts = Counter(json.loads(m.value)["id"] for m in read_topic(data, "out"))
    assert set(counts) == set(range(N))
    assert max(counts.values()) == 1


CRASH_AFTER_FLUSH = """
import os, sys
from streamctl.pipeline import load_pipeline
from streamctl.transport.local import LocalConsumer

calls = 0
real_commit = LocalConsumer.commit

def commit(self, offsets):
    global calls
    calls += 1
    if calls == 5:          # outputs of this batch are flushed; its offsets never get committed
        os._exit(137)
    real_commit(self, offsets)

LocalConsumer.commit = commit
sys.exit(load_pipeline(sys.argv[1], datadir=sys.argv[2]).app.run())
"""


def test_crash_between_flush_and_commit_repeats_exactly_that_batch(tmp_path: Path) -> None:
    import subprocess
    import sys

    pipeline, data = setup(tmp_path)
    res = subprocess.run(
        [sys.executable, "-c", CRASH_AFTER_FLUSH, str(pipeline), str(data)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert res.returncode == 137, res.stderr
    before = [json.loads(m.value) for m in read_topic(data, "out")]
    commit_at_crash = committed_offsets(data)
    uncommitted = {o["id"] for o in before if o["src"][1] >= commit_at_crash[o["src"][0]]}
    assert 0 < len(uncommitted) <= 40  # one batch: max_poll_records

    proc = streamctl_process("run", pipeline, "-d", data, "--until-idle")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    counts = Counter(json.loads(m.value)["id"] for m in read_topic(data, "out"))
    assert set(counts) == set(range(N))
    assert {i for i, c in counts.items() if c > 1} == uncommitted
