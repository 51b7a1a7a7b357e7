"""streamctl group list|describe|reset and topic create|delete, end to end through the CLI,
on the embedded broker and on the real Kafka broker: reprocessing with exact counts,
refusal while a worker runs, skipping a poison record."""

from __future__ import annotations

import json
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support import cli, streamctl_process

from streamctl.transport import TopicPartition, open_transport

PIPELINE = """\
app: {app}
topics:
  {src}: {{partitions: 2}}
  {out}: {{partitions: 2}}
tables:
  seen: {{default: int}}
agents:
  divide:
    from: {src}
    steps:
      - map: {{r: "100 / n"}}
      - count: seen
      - to: {out}
"""
#: 12 events over 3 keys on both partitions (k0, k1: partition 1, k3: partition 0); n > 0
EVENTS = [{"k": ("k0", "k1", "k3")[i % 3], "n": i + 1} for i in range(12)]
COUNTS = {"k0": 4, "k1": 4, "k3": 4}


class Setup:
    """A pipeline file with its own app and topics, and the broker options for every command."""

    def __init__(self, tmp_path: Path, run_id: str, broker: str | None) -> None:
        self.app, self.src, self.out = f"reproc-{run_id}", f"nums-{run_id}", f"out-{run_id}"
        self.datadir = tmp_path / "data"
        self.pipeline = tmp_path / "p.yaml"
        self.pipeline.write_text(PIPELINE.format(app=self.app, src=self.src, out=self.out))
        self.opts = ["-d", str(self.datadir)] + (["-b", broker] if broker else [])
        self.url = broker or "local://"

    def ok(self, *args: Any, input: str | None = None) -> Any:
        result = cli(*args, *self.opts, input=input)
        assert result.exit_code == 0, result.output
        return result

    def send(self, events: list[dict[str, Any]]) -> None:
        lines = self.pipeline.parent / "events.jsonl"
        lines.write_text("".join(json.dumps(e) + "\n" for e in events))
        self.ok("send", self.src, "-p", self.pipeline, "--file", lines, "--key-field", "k")

    def run(self) -> None:
        self.ok("run", self.pipeline, "--until-idle")

    def describe(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(
            self.ok("group", "describe", "-p", self.pipeline, "-f", "json").stdout
        )
        return data

    def reset(self, *args: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(
            self.ok("group", "reset", self.app, *args, "-f", "json").stdout
        )
        return data

    def records(self, topic: str) -> int:
        """The records in ``topic``, read back (on Kafka a transaction's commit marker
        takes an offset too, so end offsets overcount)."""
        transport = open_transport(self.url, datadir=self.datadir)
        try:
            parts = transport.list_topics()[topic].partitions
            consumer = transport.consumer(None)
            tps = [TopicPartition(topic, p) for p in range(parts)]
            consumer.assign(tps)
            for tp in tps:
                consumer.seek(tp, 0)
            ends = consumer.end_offsets(tps)
            count, deadline = 0, time.monotonic() + 60
            while any(consumer.position(tp) < end for tp, end in ends.items()):
                assert time.monotonic() < deadline, "could not read the topic back"
                count += len(consumer.poll(10_000, timeout=0.5))
            consumer.close()
            return count
        finally:
            transport.close()

    def topics(self) -> dict[str, Any]:
        """The broker's topics (not through ``topic list``: on the shared Kafka broker it
        reads the end offsets of every test's topics)."""
        transport = open_transport(self.url, datadir=self.datadir)
        try:
            return dict(transport.list_topics())
        finally:
            transport.close()

    def table(self) -> dict[str, int]:
        data: dict[str, int] = json.loads(self.ok("table", "dump", self.pipeline, "seen").stdout)
        return data


@pytest.fixture(params=["local", pytest.param("kafka", marks=pytest.mark.kafka)])
def setup(request: pytest.FixtureRequest, tmp_path: Path, run_id: str) -> Setup:
    broker = None
    if request.param == "kafka":
        broker = f"kafka://{request.getfixturevalue('kafka_broker')}"
    return Setup(tmp_path, run_id, broker)


def wait_for(check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.2)


@pytest.mark.timeout(240)
def test_reset_to_earliest_reprocesses_everything(setup: Setup) -> None:
    setup.send(EVENTS)
    setup.run()
    view = setup.describe()
    assert (view["group"], view["state"], view["lag"]) == (setup.app, "Empty", 0)
    rows = {p["partition"]: p for p in view["partitions"] if p["topic"] == setup.src}
    assert setup.records(setup.src) == len(EVENTS)
    assert all(p["lag"] == 0 for p in rows.values())
    assert all(p["committed"] == p["end"] for p in rows.values() if p["end"])
    assert setup.app in [
        g["group"] for g in json.loads(setup.ok("group", "list", "-f", "json").stdout)
    ]
    assert setup.records(setup.out) == len(EVENTS)
    text = setup.ok("group", "describe", setup.app).stdout.splitlines()
    assert text[0] == f"group {setup.app}: Empty, no live member"
    assert text[1].split() == ["topic", "partition", "committed", "end", "lag", "member"]
    assert text[-1] == "lag 0 (source topics)"

    # a dry run shows the plan and changes nothing
    plan = setup.reset("--to-earliest")
    assert plan["executed"] is False
    assert {(r["topic"], r["partition"], r["current"], r["new"]) for r in plan["plan"]} == {
        (setup.src, p, rows[p]["committed"], 0) for p in rows
    }
    assert setup.describe()["lag"] == 0
    text = setup.ok("group", "reset", setup.app, "--to-earliest").stdout
    assert "dry run: nothing changed; add --execute to apply this plan" in text

    # --execute applies it: the lag is the whole input, a rerun processes it all again
    assert setup.reset("--to-earliest", "--execute")["executed"] is True
    view = setup.describe()
    # every offset from the start again (on Kafka, commit markers take offsets too)
    assert view["lag"] == sum(p["end"] for p in view["partitions"] if p["topic"] == setup.src)
    assert view["lag"] >= len(EVENTS)
    setup.run()
    assert setup.describe()["lag"] == 0
    assert setup.records(setup.out) == 2 * len(EVENTS)
    # tables keep their state: the counts doubled
    assert setup.table() == {k: 2 * n for k, n in COUNTS.items()}

    # from scratch, tables too: reset, delete the changelog, rerun
    setup.reset("--to-earliest", "--execute")
    deleted = setup.ok("topic", "delete", f"{setup.app}-seen-changelog", "--yes")
    assert deleted.stdout == f"deleted topic {setup.app}-seen-changelog\n"
    # stores that outlived their changelog are refused, never wiped (#9 section 5) ...
    refused = cli("run", setup.pipeline, "--until-idle", *setup.opts)
    assert refused.exit_code == 1 and "changelog ends before it" in refused.stderr
    # ... so, as Kafka Streams' reset tool asks for cleanUp(), the local state goes too
    shutil.rmtree(setup.datadir / "stores" / setup.app / "seen")
    setup.run()
    assert setup.records(setup.out) == 3 * len(EVENTS)
    assert setup.table() == COUNTS


@pytest.mark.timeout(240)
def test_reset_and_delete_refused_while_a_worker_runs(setup: Setup) -> None:
    setup.send(EVENTS[:4])
    worker = streamctl_process("run", setup.pipeline, *setup.opts)
    try:
        wait_for(lambda: setup.describe()["members"] != [] and setup.describe()["lag"] == 0)
        for args in (["--to-earliest", "--execute"], ["--to-earliest"]):
            refused = cli("group", "reset", setup.app, *args, *setup.opts)
            assert refused.exit_code == 1
            assert refused.stderr.count("\n") == 1
            assert f"cannot reset the offsets of group {setup.app!r} while it has live" in (
                refused.stderr
            )
            assert "stop its workers first" in refused.stderr
        refused = cli("topic", "delete", setup.src, "--yes", *setup.opts)
        assert refused.exit_code == 1
        assert f"cannot delete topic {setup.src!r} while a worker that reads it runs" in (
            refused.stderr
        )
        assert setup.records(setup.src) == 4  # nothing was deleted
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.communicate(timeout=60)
    assert worker.returncode == 0
    wait_for(lambda: setup.describe()["members"] == [])
    assert setup.reset("--to-earliest", "--execute")["executed"] is True
    view = setup.describe()
    assert view["lag"] == sum(p["end"] for p in view["partitions"] if p["topic"] == setup.src)
    assert view["lag"] >= 4


@pytest.mark.timeout(240)
def test_shift_skips_a_poison_record(setup: Setup) -> None:
    setup.send(EVENTS[:3])
    setup.run()
    setup.send([{"k": "k0", "n": 0}])  # 100 / 0: the worker stops on it
    failed = cli("run", setup.pipeline, "--until-idle", *setup.opts)
    assert failed.exit_code != 0
    where = [p for p in setup.describe()["partitions"] if p["lag"]]
    # lag counts offsets: on Kafka the send's commit marker takes one after the record
    assert len(where) == 1 and where[0]["lag"] >= 1
    poison = where[0]
    assert f"{setup.src}[{poison['partition']}]@{poison['committed']}" in failed.stderr
    plan = setup.reset(
        "--shift", "1", "--topic", setup.src, "--partition", str(poison["partition"]), "--execute"
    )
    assert [(r["current"], r["new"]) for r in plan["plan"]] == [
        (poison["committed"], poison["committed"] + 1)
    ]
    setup.run()
    assert setup.describe()["lag"] == 0
    assert setup.records(setup.out) == 3
    assert setup.table() == {"k0": 1, "k1": 1, "k3": 1}


def test_reset_plans_clamp_and_scope(tmp_path: Path, run_id: str) -> None:
    # the embedded broker only: Kafka's offsets for times and clamping ranges come from the
    # same transport methods, which the admin contract suite runs against the real broker
    setup = Setup(tmp_path, run_id, None)
    setup.send(EVENTS)
    setup.run()
    rows = {p["partition"]: p for p in setup.describe()["partitions"] if p["topic"] == setup.src}
    # shift clamps to [earliest, latest]
    back = setup.reset("--shift", "-1000", "--topic", setup.src)["plan"]
    assert {(r["partition"], r["new"]) for r in back} == {(p, 0) for p in rows}
    assert all("clamped to earliest" in r["note"] for r in back)
    ahead = setup.reset("--shift", "5", "--topic", setup.src)["plan"]
    assert {(r["partition"], r["new"]) for r in ahead} == {(p, rows[p]["end"]) for p in rows}
    # to-datetime: before every record -> earliest; after every record -> the end
    early = setup.reset("--to-datetime", "2000-01-01T00:00:00Z")["plan"]
    assert {r["new"] for r in early if r["topic"] == setup.src} == {0}
    late = setup.reset("--to-datetime", "2999-01-01")["plan"]
    assert {(r["partition"], r["new"]) for r in late if r["topic"] == setup.src} == {
        (p, rows[p]["end"]) for p in rows
    }
    # bad input: exit 2, one line
    for args, message in [
        (["--to-earliest", "--to-latest"], "give exactly one of"),
        (["--to-datetime", "yesterday"], "is not a date and time"),
        (["--shift", "1", "--partition", "0"], "--partition needs exactly one --topic"),
        (["--shift", "1", "--topic", setup.src, "--partition", "9"], "has no partition 9"),
        (["--to-earliest", "--topic", "nope"], "topic 'nope' does not exist"),
    ]:
        result = cli("group", "reset", setup.app, *args, *setup.opts)
        assert result.exit_code == 2, result.output
        assert message in result.stderr and result.stderr.count("\n") == 1
    unknown = cli("group", "describe", f"{setup.app}x", *setup.opts)
    assert unknown.exit_code == 2
    assert f"did you mean {setup.app!r}" in unknown.stderr


def test_topic_create_and_delete(setup: Setup) -> None:
    name = f"made-{setup.app}"
    created = setup.ok("topic", "create", name, "--partitions", "3", "--compacted")
    assert created.stdout == f"created topic {name} (3 partition(s), compacted)\n"
    spec = setup.topics()[name]
    assert (spec.partitions, spec.compacting) == (3, True)
    again = cli("topic", "create", name, "--partitions", "1", *setup.opts)
    assert again.exit_code == 1 and "already exists (3 partition(s), compacted)" in again.stderr
    bad = cli("topic", "create", "no/slash", "--partitions", "1", *setup.opts)
    assert bad.exit_code == 2 and "is not a valid topic name" in bad.stderr
    # delete asks first: no answers no
    kept = cli("topic", "delete", name, *setup.opts, input="n\n")
    assert kept.exit_code == 1 and kept.stderr.endswith(f"topic {name!r} was not deleted\n")
    assert name in setup.topics()
    gone = setup.ok("topic", "delete", name, input="y\n")
    assert f"Delete topic {name!r} and its 0 record(s)?" in gone.stderr
    assert name not in setup.topics()
    missing = cli("topic", "delete", name, "--yes", *setup.opts)
    assert missing.exit_code == 2 and f"topic {name!r} does not exist" in missing.stderr
