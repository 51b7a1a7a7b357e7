"""Event and lag counts count source events; repartition traffic is counted apart (#10)."""

from __future__ import annotations

import json
from pathlib import Path

from support import cli

from streamctl.pipeline import load_pipeline

PIPELINE = """\
app: hops
topics:
  events: {partitions: 2}
tables:
  per_a: {default: int}
  per_b: {default: int}
agents:
  by_a:
    from: events
    steps:
      - group_by: a
      - count: per_a
  by_b:
    from: events
    steps:
      - group_by: b
      - count: per_b
"""


def test_events_through_two_group_bys_count_once_and_startup_logs_one_recovery_line(
    tmp_path: Path,
) -> None:
    pipeline = tmp_path / "hops.yaml"
    pipeline.write_text(PIPELINE)
    lines = "".join(json.dumps({"a": i % 7, "b": i % 3}) + "\n" for i in range(1000))
    sent = cli("send", "events", "-", "-p", pipeline, "-d", tmp_path, input=lines)
    assert sent.stdout == "sent 1,000 record(s) to events\n"

    app = load_pipeline(pipeline, datadir=tmp_path).app
    worker = app.worker(until_idle=True, install_signal_handlers=False)
    assert worker.run() == 0
    app.close()
    stats = worker.stats
    assert (stats.processed, stats.repartitioned, stats.lag) == (1000, 2000, 0)
    assert (
        sum(json.loads(cli("table", "dump", pipeline, "per_b", "-d", tmp_path).stdout).values())
        == 1000
    )

    # a second data dir: the CLI's summary line, and one INFO line for the empty recovery
    other = tmp_path / "again"
    assert cli("send", "events", "-", "-p", pipeline, "-d", other, input=lines).exit_code == 0
    run = cli("run", pipeline, "-d", other, "--until-idle")
    assert run.exit_code == 0, run.output
    assert "processed 1,000 source event(s)" in run.stderr
    assert "2,000 repartitioned), lag 0" in run.stderr
    assert "recovered table" not in run.stderr  # nothing was replayed: no line per partition
    assert run.stderr.count("tables ready: 4 partition(s) of 2 table(s), 0 changelog") == 1
