"""The CLI end to end: quickstart, send, topic list/tail, validate, and bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from support import ROOT, cli, read_topic, values

from streamctl.cli.main import app as cli_app
from streamctl.cli.validate import PROBLEMS_FOUND

QUICKSTART = ROOT / "pipelines" / "quickstart.yaml"
ORDERS = ROOT / "pipelines" / "data" / "orders.jsonl"


def test_quickstart_pipeline_output_is_exactly_the_large_orders(tmp_path: Path) -> None:
    sent = cli(
        "send",
        "orders",
        "-p",
        QUICKSTART,
        "-d",
        tmp_path,
        "--file",
        ORDERS,
        "--key-field",
        "customer_id",
    )
    assert sent.exit_code == 0, sent.output
    assert "sent 24 record(s)" in sent.stdout

    result = cli("run", QUICKSTART, "-d", tmp_path, "--until-idle")
    assert result.exit_code == 0, result.output

    orders = [json.loads(line) for line in ORDERS.read_text().splitlines()]
    expected = sorted(
        (
            {**o, "total": round(o["quantity"] * o["price"], 2)}
            for o in orders
            if round(o["quantity"] * o["price"], 2) >= 100
        ),
        key=lambda o: o["id"],
    )
    out = read_topic(tmp_path, "large-orders")
    assert sorted((json.loads(m.value) for m in out), key=lambda o: o["id"]) == expected
    # keys are kept from the source event, and keys land on the same partition as the source
    src = {json.loads(m.value)["id"]: m for m in read_topic(tmp_path, "orders")}
    for m in out:
        s = src[json.loads(m.value)["id"]]
        assert (m.key, m.partition, m.timestamp) == (s.key, s.partition, s.timestamp)

    # a second run has nothing left to do: committed offsets are resumed
    again = cli("run", QUICKSTART, "-d", tmp_path, "--until-idle")
    assert again.exit_code == 0
    assert len(read_topic(tmp_path, "large-orders")) == len(expected)


def test_send_invalid_json_line_sends_nothing_and_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\n{"id": 2}\n{"id": 3,\n{"id": 4}\n')
    result = cli("send", "t", "--partitions", "2", "-d", tmp_path / "data", "--file", bad)
    assert result.exit_code == 2
    assert f"{bad}:3:" in result.stderr and "nothing was sent" in result.stderr
    # not even the topic was created: nothing was written
    listed = cli("topic", "list", "-f", "json", "-d", tmp_path / "data")
    assert json.loads(listed.stdout) == []


def test_send_from_stdin_with_key_and_tail_shows_latest(tmp_path: Path) -> None:
    lines = "".join(json.dumps({"n": i}) + "\n" for i in range(5))
    result = cli(
        "send", "nums", "--partitions", "1", "-k", "k1", "-d", tmp_path, "--file", "-", input=lines
    )
    assert result.exit_code == 0, result.output
    tail = cli("topic", "tail", "nums", "-n", "2", "-d", tmp_path)
    records = [json.loads(line) for line in tail.stdout.splitlines()]
    assert [(r["key"], r["value"], r["offset"]) for r in records] == [
        ("k1", {"n": 3}, 3),
        ("k1", {"n": 4}, 4),
    ]


def test_send_to_missing_topic_without_partitions_is_refused(tmp_path: Path) -> None:
    result = cli("send", "nowhere", '{"a": 1}', "-d", tmp_path)
    assert result.exit_code == 2
    assert "topic 'nowhere' does not exist" in result.stderr


def test_topic_list_counts_records(tmp_path: Path) -> None:
    cli("send", "a", '{"x": 1}', "--partitions", "3", "-d", tmp_path)
    cli("send", "a", '{"x": 2}', "-d", tmp_path)
    rows = json.loads(cli("topic", "list", "--format", "json", "-d", tmp_path).stdout)
    assert [(r["topic"], r["partitions"], r["records"]) for r in rows] == [("a", 3, 2)]


def write(tmp_path: Path, text: str, name: str = "p.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


BAD_PIPELINES = [
    ("app: x\ntopics:\n  a: {partitions: 2\n", r"p\.yaml:4:1: YAML syntax error"),
    (
        "app: x\ntopics:\n  a: {partitions: 2}\nagents:\n  f:\n    form: a\n    use: forward\n",
        r"p\.yaml:6:5: unknown key 'form' in agent 'f' \(did you mean 'from'\?\)",
    ),
    (
        "app: x\ntopics:\n  a: {}\nagents:\n  f:\n    from: b\n    use: forward\n",
        r"p\.yaml:6:11: agent 'f' reads undeclared topic 'b'",
    ),
    (
        "app: x\ntopics:\n  a: {}\nagents:\n  f:\n    from: a\n    use: no_such_module_xyz:agent\n",
        r"p\.yaml:7:10: cannot import plugin module 'no_such_module_xyz'",
    ),
    (
        "app: x\ntopics:\n  a: {partitions: zero}\n",
        r"p\.yaml:3:19: partitions must be int, not a string",
    ),
    (
        "app: x\ntopcs: {}\n",
        r"p\.yaml:2:1: unknown key 'topcs' in the pipeline \(did you mean 'topics'\?\)",
    ),
    (
        "app: x\nbroker: ${STREAMCTL_TEST_UNSET_VAR}\n",
        r"p\.yaml:2:9: environment variable STREAMCTL_TEST_UNSET_VAR is not set",
    ),
]


@pytest.mark.parametrize("text,message", BAD_PIPELINES)
def test_bad_pipeline_run_exits_2_with_position_and_writes_nothing(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    data = tmp_path / "data"
    result = cli("run", path, "-d", data, "--until-idle")
    assert result.exit_code == 2, result.output
    assert re.search(message, result.stderr), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not data.exists()


def test_validate_reports_every_problem_and_exit_codes(tmp_path: Path) -> None:
    bad = write(
        tmp_path,
        "app: x\ntopics:\n  a: {partitions: 0}\nagents:\n  f:\n    from: b\n    use: forward\n    to: [c]\n",
    )
    good = write(
        tmp_path,
        "app: y\ntopics:\n  a: {}\n  b: {}\nagents:\n  f: {from: a, use: forward, to: b}\n",
        "good.yaml",
    )
    result = cli("validate", bad, good)
    assert result.exit_code == PROBLEMS_FOUND
    lines = result.stderr.strip().splitlines()
    assert lines == [
        f"{bad}:3:19: partitions must be at least 1, not 0",
        f"{bad}:6:11: agent 'f' reads undeclared topic 'b'",
        f"{bad}:8:10: agent 'f' writes to undeclared topic 'c'",
    ]
    assert f"ok: {good}" in result.stdout
    assert cli("validate", good).exit_code == 0
    assert cli("validate", QUICKSTART).exit_code == 0


def test_corrupted_data_dir_gives_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "broker.db").write_bytes(b"this is not sqlite" * 100)
    result = cli("topic", "list", "-d", tmp_path)
    assert result.exit_code == 1
    assert "broker.db is not a usable broker log" in result.stderr
    assert "Traceback" not in result.output


def _commands(group, prefix=()):  # type: ignore[no-untyped-def]
    import typer.main

    click_group = typer.main.get_command(group)
    stack = [(prefix, click_group)]
    while stack:
        path, cmd = stack.pop()
        subs = getattr(cmd, "commands", None)
        if subs:
            stack.extend((path + (name,), sub) for name, sub in subs.items())
        else:
            yield path


def test_every_command_has_help_with_an_example() -> None:
    commands = list(_commands(cli_app))
    assert {"run", "send", "validate"} <= {c[0] for c in commands}
    for path in commands:
        result = cli(*path, "--help")
        assert result.exit_code == 0, path
        assert "Example:" in result.stdout, f"streamctl {' '.join(path)} --help has no example"


def test_version() -> None:
    result = cli("--version")
    assert result.exit_code == 0 and result.stdout.startswith("streamctl ")


def test_values_helper_reads_what_was_sent(tmp_path: Path) -> None:
    cli("send", "v", '{"a": 1}', "--partitions", "1", "-d", tmp_path)
    assert values(tmp_path, "v") == [{"a": 1}]


def test_bad_settings_are_caught_by_validate_with_their_position(tmp_path: Path) -> None:
    path = write(tmp_path, "app: x\nsettings:\n  commit_interval: fast\n")
    result = cli("validate", path)
    assert result.exit_code == PROBLEMS_FOUND
    assert (
        result.stderr.strip()
        == f"{path}:3:20: setting commit_interval must be a number of seconds >= 0, not 'fast'"
    )


def test_send_refuses_infinite_numbers_in_one_line(tmp_path: Path) -> None:
    result = cli("send", "t", "--partitions", "1", "-d", tmp_path, "1e400")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: <argument>:1: invalid JSON")
    assert "nothing was sent" in result.stderr and "Traceback" not in result.output


def test_topic_tail_follow_prints_records_as_they_arrive(tmp_path: Path) -> None:
    import signal
    import time

    from support import streamctl_process

    assert cli("send", "live", '{"n": 0}', "--partitions", "2", "-d", tmp_path).exit_code == 0
    proc = streamctl_process("topic", "tail", "live", "-n", "1", "--follow", "-d", tmp_path)
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())
        assert first["value"] == {"n": 0}
        time.sleep(0.3)  # the follower is polling now
        assert cli("send", "live", '{"n": 1}', "-k", "a", "-d", tmp_path).exit_code == 0
        second = json.loads(proc.stdout.readline())
        assert (second["key"], second["value"]) == ("a", {"n": 1})
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(10)
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""


def test_send_with_a_missing_key_field_sends_nothing(tmp_path: Path) -> None:
    lines = '{"user": "a"}\n{"user": "b"}\n{"other": 1}\n'
    result = cli(
        "send",
        "k",
        "--partitions",
        "1",
        "-d",
        tmp_path,
        "--key-field",
        "user",
        "--file",
        "-",
        input=lines,
    )
    assert result.exit_code == 2
    assert "<stdin>:3: no field 'user'" in result.stderr and "nothing was sent" in result.stderr
    assert not (tmp_path / "broker.db").exists()  # checked before the broker was even opened


@pytest.mark.parametrize(
    "args",
    [
        ["send", "orders", "-b", "memory://", "--file", "-"],
        ["run", "pipelines/quickstart.yaml", "-b", "memory://", "--until-idle"],
        ["table", "list", "pipelines/revenue.yaml", "-b", "memory://"],
        ["topic", "list", "-b", "memory://"],
    ],
)
def test_the_cli_refuses_a_broker_that_lives_in_one_process(
    tmp_path: Path, args: list[str]
) -> None:
    """What `send -b memory://` wrote would vanish when it exits: refused, nothing run."""
    args = [str(ROOT / a) if a.startswith("pipelines/") else a for a in args]
    result = cli(*args, "-d", str(tmp_path / "data"), input='{"id": 1}\n')
    assert result.exit_code == 2, result.output
    assert "lives in one process" in result.stderr
    assert "use local://" in result.stderr
    assert not (tmp_path / "data").exists()
