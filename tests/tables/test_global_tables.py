"""GlobalTable in a running worker: filled from its changelog, followed while it runs."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

from support import cli, read_topic, streamctl_process

PIPELINE = """
app: gt
topics:
  lookups: {partitions: 2}
  answers: {partitions: 2}
tables:
  prices: {kind: global, default: float}
agents:
  look:
    from: lookups
    use: gtagent:look
    to: answers
"""
PLUGIN = """
async def look(stream):
    prices = stream.app.tables["prices"]
    async for v in stream:
        yield {"item": v["item"], "price": prices.get(v["item"])}
"""


def answers(data: Path) -> list[dict]:
    """In order: every lookup is keyed alike, so all answers share one partition."""
    try:
        return [json.loads(m.value) for m in read_topic(data, "answers")]
    except KeyError:  # the worker has not created the topic yet
        return []


def wait_for_answers(data: Path, n: int, proc) -> list[dict]:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        got = answers(data)
        if len(got) >= n:
            return got
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError(f"fewer than {n} answers in 30 s: {answers(data)}")


def test_a_running_worker_follows_its_global_table_changelog(tmp_path: Path) -> None:
    (tmp_path / "gtagent.py").write_text(PLUGIN)
    pipeline = tmp_path / "gt.yaml"
    pipeline.write_text(PIPELINE)
    data = tmp_path / "data"
    # filled before the worker starts, through the table CLI
    assert cli("table", "set", pipeline, "prices", "pen", "2.5", "-d", data).exit_code == 0
    proc = streamctl_process("run", pipeline, "-d", data)
    try:
        assert (
            cli(
                "send", "lookups", '{"item": "pen"}', "-k", "pen", "-p", pipeline, "-d", data
            ).exit_code
            == 0
        )
        assert wait_for_answers(data, 1, proc) == [{"item": "pen", "price": 2.5}]
        # changed while it runs, by writing the changelog topic with the table's encoding
        sent = cli("send", "gt-prices-changelog", "3.0", "--key", "pen", "-p", pipeline, "-d", data)
        assert sent.exit_code == 0, sent.output
        time.sleep(0.5)  # the worker follows the changelog between batches
        assert (
            cli(
                "send", "lookups", '{"item": "pen"}', "-k", "pen", "-p", pipeline, "-d", data
            ).exit_code
            == 0
        )
        assert wait_for_answers(data, 2, proc)[1] == {"item": "pen", "price": 3.0}
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    dump = cli("table", "dump", pipeline, "prices", "-d", data)
    assert json.loads(dump.stdout) == {"pen": 3.0}
