"""Co-partitioning checked per table, before anything is created (#9 §4)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from support import cli

from streamctl import App
from streamctl.cli.validate import PROBLEMS_FOUND
from streamctl.exceptions import ConfigurationError
from streamctl.transport.base import TopicSpec
from streamctl.transport.local import LocalTransport

TWO_SOURCES = """
app: two
topics:
  orders: {partitions: 4}
  pings: {partitions: 1}
tables:
  per_customer: {default: int, partitions: 4}
agents:
  count:
    from: orders
    steps:
      - group_by: customer
      - count: per_customer
  echo:
    from: pings
    use: forward
    to: [pongs]
"""
PLUGIN = """
app: pl
topics:
  orders: {partitions: 4}
tables:
  counts: {default: int, partitions: 1}
agents:
  count:
    from: orders
    use: %s:count
"""
AGENT = """
async def count(stream):
    counts = stream.app.tables["counts"]
    async for key, _ in stream.items():
        counts[key] += 1
"""


def topic_counts(data: Path) -> dict[str, int]:
    transport = LocalTransport(datadir=data)
    try:
        return {n: s.partitions for n, s in transport.list_topics().items()}
    finally:
        transport.close()


def test_a_table_is_checked_only_against_the_topics_that_write_it(tmp_path: Path) -> None:
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(
        TWO_SOURCES.replace("to: [pongs]", "to: [pongs]\n").replace(
            "  pings: {partitions: 1}", "  pings: {partitions: 1}\n  pongs: {partitions: 1}"
        )
    )
    data = tmp_path / "data"
    assert cli("validate", pipeline).exit_code == 0
    for c in ["ada", "bob", "ada"]:
        sent = cli("send", "orders", f'{{"customer": "{c}"}}', "-k", c, "-p", pipeline, "-d", data)
        assert sent.exit_code == 0
    assert cli("send", "pings", "1", "-p", pipeline, "-d", data).exit_code == 0
    run = cli("run", pipeline, "-d", data, "--until-idle")
    assert run.exit_code == 0, run.stderr
    dump = cli("table", "dump", pipeline, "per_customer", "-d", data)
    assert dump.exit_code == 0 and dump.stdout.split() == ["{", '"ada":', "2,", '"bob":', "1", "}"]


def test_validate_and_run_refuse_a_plugin_table_unlike_its_topic(tmp_path: Path) -> None:
    module = f"cp_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text(AGENT)
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(PLUGIN % module)
    data = tmp_path / "data"
    want = "table 'counts' has 1 partition(s) but topic 'orders', whose events write it, has 4"
    validate = cli("validate", pipeline)
    assert validate.exit_code == PROBLEMS_FOUND
    assert f"p.yaml:6:11: {want}" in validate.stderr
    run = cli("run", pipeline, "-d", data, "--until-idle")
    assert run.exit_code == 2
    assert want in run.stderr and "partitions=4" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert topic_counts(data) == {}  # no topic, no changelog was created
    assert not (data / "stores").exists()


def test_an_existing_changelog_with_other_partitions_is_named(tmp_path: Path) -> None:
    module = f"cp_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text(AGENT)
    pipeline = tmp_path / "p.yaml"
    # a first run with 1 partition left its changelog; the table now says 4
    pipeline.write_text((PLUGIN % module).replace("partitions: 1}", "partitions: 4}"))
    data = tmp_path / "data"
    transport = LocalTransport(datadir=data)
    transport.create_topics([TopicSpec("pl-counts-changelog", 1, compacting=True)])
    transport.close()
    want = (
        "table 'counts' has 4 partition(s) but its changelog topic 'pl-counts-changelog' "
        "exists with 1: delete that topic (streamctl topic delete pl-counts-changelog) and "
        "the table's stores to start the table over"
    )  # not "declare the table with partitions=1": its 4-partition source would refuse that
    run = cli("run", pipeline, "-d", data, "--until-idle")
    assert (run.exit_code, want in run.stderr) == (2, True), run.stderr
    assert topic_counts(data) == {"pl-counts-changelog": 1}  # nothing else created
    for args in (["dump"], ["get", "k"], ["set", "k", "1"]):
        got = cli("table", args[0], pipeline, "counts", *args[1:], "-d", data)
        assert got.exit_code == 2
        assert want in got.stderr and len(got.stderr.strip().splitlines()) == 1


def test_python_agents_are_checked_against_the_tables_their_code_names(tmp_path: Path) -> None:
    app = App("py", broker="memory://", datadir=tmp_path)
    wide = app.topic("wide", partitions=4, key_type=str)
    narrow = app.topic("narrow", partitions=1, key_type=str)
    counts = app.Table("counts", default=int, partitions=4)
    seen = app.Table("seen", default=int, partitions=1)

    def bump(key: str) -> None:  # a helper the agent calls
        counts[key] += 1

    @app.agent(wide)
    async def count(stream: Any) -> None:
        async for key, _ in stream.items():
            bump(key)

    @app.agent(narrow)
    async def mark(stream: Any) -> None:
        async for key, _ in stream.items():
            stream.app.tables["seen"][key] = 1

    app.check_partitions()
    assert counts.sources == {"wide": 4} and seen.sources == {"narrow": 1}
    app.ensure_topics()  # passes: each table against its own writers

    other = App("py2", broker="memory://", datadir=tmp_path / "x")
    t4 = other.topic("wide", partitions=4)
    bad = other.Table("bad", default=int)

    @other.agent(t4)
    async def write(stream: Any) -> None:
        async for key, _ in stream.items():
            bad[key] = 1

    with pytest.raises(ConfigurationError, match="table 'bad' has 1 partition.*'wide'.*has 4"):
        other.ensure_topics()
    assert other.transport.list_topics() == {}


KAFKA = """
app: cp-{run}
broker: kafka://{bootstrap}
topics:
  sales-{run}: {{partitions: 4}}
tables:
  counts: {{default: int, partitions: 4}}
agents:
  tally:
    from: sales-{run}
    steps:
      - count: counts
"""


@pytest.mark.kafka
def test_kafka_names_an_existing_changelog_with_other_partitions(
    kafka_broker: str, tmp_path: Path, run_id: str
) -> None:
    from streamctl.transport.kafka import KafkaTransport

    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(KAFKA.format(run=run_id, bootstrap=kafka_broker))
    changelog = f"cp-{run_id}-counts-changelog"
    transport = KafkaTransport(f"kafka://{kafka_broker}")
    try:
        transport.create_topics([TopicSpec(changelog, 1, compacting=True)])
    finally:
        transport.close()
    want = (
        f"table 'counts' has 4 partition(s) but its changelog topic {changelog!r} exists "
        f"with 1: delete that topic (streamctl topic delete {changelog})"
    )
    run = cli("run", pipeline, "-d", tmp_path / "data", "--until-idle")
    assert run.exit_code == 2, run.stderr
    assert want in run.stderr and "rebalance" not in run.stderr
    problems = [line for line in run.stderr.splitlines() if " INFO " not in line]
    assert len(problems) == 1 and problems[0].startswith("error: ")
    dump = cli("table", "dump", pipeline, "counts", "-d", tmp_path / "data")
    assert (dump.exit_code, want in dump.stderr) == (2, True), dump.stderr
    transport = KafkaTransport(f"kafka://{kafka_broker}")
    try:
        assert f"sales-{run_id}" not in transport.list_topics()  # the refused run created nothing
    finally:
        transport.close()


def test_an_existing_source_topic_with_other_partitions_is_named(tmp_path: Path) -> None:
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(
        "app: es\ntopics:\n  orders: {partitions: 4}\ntables:\n  n: {default: int, "
        "partitions: 4}\nagents:\n  c:\n    from: orders\n    steps:\n      - count: n\n"
    )
    data = tmp_path / "data"
    # sent before the pipeline was written, to a topic made with 1 partition
    sent = cli("send", "orders", "{}", "-k", "a", "--partitions", "1", "-d", data)
    assert sent.exit_code == 0
    run = cli("run", pipeline, "-d", data, "--until-idle")
    assert run.exit_code == 2
    assert (
        "table 'n' has 4 partition(s) but topic 'orders', whose events write it, exists with 1"
        in run.stderr
    )
    assert topic_counts(data) == {"orders": 1}  # no changelog was created
