"""``streamctl table`` on another machine reaches a Kafka worker (#15 item 3): the worker
announces its control channel in the consumer group's member metadata, so a data dir
that has no registry entry and no store of the app (another machine's) reads the
worker's live state and sets a key that its next event sees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from observe_support import get_json, wait_for, worker
from support import cli

from streamctl.admin import workers
from streamctl.app import App
from streamctl.naming import consumer_group

pytestmark = pytest.mark.kafka

PIPELINE = """\
app: remote-{run}
broker: kafka://{bootstrap}
models:
  Word:
    fields:
      w: str
      n: int
topics:
  words-{run}: {{partitions: 2, value_type: Word}}
tables:
  counts: {{default: int}}
settings:
  commit_interval: 60
  control_host: {host}
broker_settings:
  session_timeout_ms: 6000
  heartbeat_interval_ms: 500
agents:
  count:
    from: words-{run}
    steps:
      - group_by: w
      - count: counts
"""


def processed(base: str) -> int:
    return int(get_json(base + "api/status")[1]["processed"])


def test_a_worker_on_another_machine_answers_table_commands(
    kafka_broker: str, tmp_path: Path, run_id: str
) -> None:
    pipe = tmp_path / "p.yaml"
    # 127.0.0.2: not the default 127.0.0.1, so announced; still this machine's loopback
    pipe.write_text(PIPELINE.format(run=run_id, bootstrap=kafka_broker, host="127.0.0.2"))
    here, there = tmp_path / "machine-a", tmp_path / "machine-b"
    topic = f"words-{run_id}"
    cli("topic", "create", topic, "--partitions", "2", "-p", pipe, "-d", here)
    records = [{"w": w, "n": 1} for w in ["x", "y", "x"]]
    send_to(pipe, here, topic, records)
    with worker(pipe, here) as base:
        wait_for(lambda: processed(base) == 3, timeout=60)
        assert workers.live(there, f"remote-{run_id}") == []  # nothing registered there
        app = App(f"remote-{run_id}", broker=f"kafka://{kafka_broker}", datadir=there)
        try:
            (endpoint,) = workers.announced(app.transport, consumer_group(app.id))
        finally:
            app.close()
        assert endpoint.url.startswith("http://127.0.0.2:") and endpoint.path is None

        got = cli("table", "get", pipe, "counts", "x", "-d", there)
        assert (got.exit_code, got.stdout.strip()) == (0, "2"), got.output
        dump = cli("table", "dump", pipe, "counts", "-d", there)
        assert json.loads(dump.stdout) == {"x": 2, "y": 1}, dump.output
        done = cli("table", "set", pipe, "counts", "y", "40", "-d", there)
        assert done.exit_code == 0, done.output
        send_to(pipe, there, topic, [{"w": "y", "n": 1}])
        wait_for(lambda: processed(base) == 4, timeout=60)
        got = cli("table", "get", pipe, "counts", "y", "-d", there)
        assert (got.exit_code, got.stdout.strip()) == (0, "41"), got.output
        missing = cli("table", "get", pipe, "counts", "zzz", "-d", there)
        assert missing.exit_code == 1 and "no key" in missing.output
    assert not (there / "stores").exists()  # the reads and writes there wrote no store


def send_to(pipe: Path, datadir: Path, topic: str, records: list[dict[str, object]]) -> None:
    tmp = datadir.parent / f"in-{len(records)}-{datadir.name}.jsonl"
    tmp.write_text("".join(json.dumps(r) + "\n" for r in records))
    result = cli("send", topic, "-p", pipe, "-d", datadir, "--file", tmp)
    assert result.exit_code == 0, result.output


def test_a_loopback_channel_is_not_announced(
    kafka_broker: str, tmp_path: Path, run_id: str
) -> None:
    pipe = tmp_path / "p.yaml"
    pipe.write_text(PIPELINE.format(run=run_id, bootstrap=kafka_broker, host="127.0.0.1"))
    topic = f"words-{run_id}"
    send_to(pipe, tmp_path / "a", topic, [{"w": "x", "n": 1}])
    with worker(pipe, tmp_path / "a") as base:
        wait_for(lambda: processed(base) == 1, timeout=60)
        app = App(f"remote-{run_id}", broker=f"kafka://{kafka_broker}", datadir=tmp_path / "b")
        try:
            members = app.transport.describe_group(consumer_group(app.id)).members
            assert len(members) == 1 and members[0].announced == ""
        finally:
            app.close()
        # from another data dir the worker is not found: reads replay the changelog (what
        # it committed), writes are refused while it holds the group (they went through)
        wait_for(lambda: cli("table", "get", pipe, "counts", "x", "-d", tmp_path / "b").stdout)
        got = cli("table", "get", pipe, "counts", "x", "-d", tmp_path / "b")
        assert (got.exit_code, got.stdout.strip()) == (0, "1"), got.output
        refused = cli("table", "set", pipe, "counts", "x", "5", "-d", tmp_path / "b")
        assert refused.exit_code == 1 and "while a worker runs" in refused.output


def test_the_web_view_answers_a_key_another_worker_holds(
    kafka_broker: str, tmp_path: Path, run_id: str
) -> None:
    """Two workers (two machines' data dirs) share the input's two partitions: each one's
    ``/api/tables/NAME/KEY`` answers every key, those of the other's partition from it."""
    pipe = tmp_path / "p.yaml"
    text = PIPELINE.format(run=run_id, bootstrap=kafka_broker, host="127.0.0.2")
    # a windowed table too: a key's windows come from the worker that holds them
    text = text.replace("  counts:", "  hourly: {default: int, window: {tumbling: 1h}}\n  counts:")
    pipe.write_text(
        text.replace("      - count: counts\n", "      - count: counts\n      - count: hourly\n")
    )
    here, there = tmp_path / "machine-a", tmp_path / "machine-b"
    topic = f"words-{run_id}"
    cli("topic", "create", topic, "--partitions", "2", "-p", pipe, "-d", here)
    words = [chr(ord("a") + i) for i in range(10)]
    counts = {w: 1 + i % 3 for i, w in enumerate(words)}
    with worker(pipe, here) as a, worker(pipe, there) as b:

        def holds_one(base: str) -> bool:
            parts = get_json(base + "api/status")[1]["partitions"]
            return len({p["partition"] for p in parts if p["topic"] == topic}) == 1

        wait_for(lambda: holds_one(a) and holds_one(b), timeout=90)
        send_to(pipe, here, topic, [{"w": w, "n": 1} for w in words for _ in range(counts[w])])

        def answers() -> dict[str, object]:
            return {w: get_json(f"{a}api/tables/counts/{w}")[1] for w in words}

        wait_for(lambda: all(r.get("value") == counts[w] for w, r in answers().items()), 90)
        (b_id,) = [e.worker_id for e in workers.live(there, f"remote-{run_id}")]
        got = answers()
        from_b = {w for w, r in got.items() if r.get("worker") == b_id}
        # a answers its own keys itself and asks b for the others
        assert from_b and from_b != set(words), got
        assert all("worker" not in r for w, r in got.items() if w not in from_b), got
        for w in words:
            windows = get_json(f"{a}api/tables/hourly/{w}")[1]
            assert [x["value"] for x in windows["value"]] == [counts[w]], windows
            assert (windows.get("worker") == b_id) == (w in from_b), windows
        code, missing = get_json(f"{a}api/tables/counts/zzz")
        assert (code, missing["found"]) == (404, False)
