"""The per-record error policy through the CLI (#9 §1): each failing record of the issue is
parked with its reason, skipped, or stops the worker naming it; nothing else is lost."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from support import cli, read_topic

from streamctl.cli.validate import PROBLEMS_FOUND

COUNT = """\
app: c
topics:
  events: {partitions: 1}
  out: {partitions: 1}
%(topic_dl)s
tables:
  counts: {default: int}
  sums: {default: float}
agents:
  c:
    from: events
%(agent)s
    steps:
      - filter: "qty > 0"
      - to: out
      - count: counts
      - add: {table: sums, value: amount}
"""


def pipeline(tmp_path: Path, text: str, **subs: str) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(text % {"topic_dl": "", "agent": "", **subs} if subs or "%(" in text else text)
    return path


def line_of(path: Path, text: str) -> int:
    return path.read_text().splitlines().index(text) + 1


def send(path: Path, data: Path, lines: list[str], *key: str) -> None:
    result = cli(
        "send", "events", "-p", path, "-d", data, *key, "--file", "-", input="\n".join(lines) + "\n"
    )
    assert result.exit_code == 0, result.output


def run(path: Path, data: Path) -> Any:
    return cli("run", path, "-d", data, "--until-idle")


def dump(path: Path, table: str, data: Path) -> dict[str, Any]:
    result = cli("table", "dump", path, table, "-d", data)
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def parked(data: Path, topic: str = "bad") -> list[tuple[bytes | None, Any, dict[str, bytes]]]:
    return [
        (m.key, None if m.value is None else json.loads(m.value), dict(m.headers))
        for m in read_topic(data, topic)
    ]


def test_null_value_and_null_key_into_count_are_parked_with_their_reason(tmp_path: Path) -> None:
    path = pipeline(tmp_path, COUNT, agent="    dead_letter: bad")
    data = tmp_path / "d"
    send(path, data, ['{"qty": 1, "amount": 1}'], "-k", "a")
    send(path, data, ['{"qty": 2, "amount": 2}'])  # no --key: a null key
    send(path, data, ["null", '{"qty": 3, "amount": 3}'], "-k", "a")
    result = run(path, data)
    assert result.exit_code == 0, result.output
    assert dump(path, "counts", data) == {"a": 2}
    assert dump(path, "sums", data) == {"a": 4.0}
    dead = parked(data)
    assert [(k, v) for k, v, _ in dead] == [(None, {"qty": 2, "amount": 2}), (b"a", None)]
    first, second = dead[0][2], dead[1][2]
    assert first["streamctl.error"] == b"table 'counts': keys cannot be None"
    assert first["streamctl.error.type"] == b"TypeError"
    assert first["streamctl.agent"] == b"c"
    assert first["streamctl.step"] == b"count"
    assert (
        first["streamctl.step.where"] == f"{path}:{line_of(path, '      - count: counts')}".encode()
    )
    assert (first["streamctl.source.topic"], first["streamctl.source.offset"]) == (b"events", b"1")
    assert second["streamctl.step"] == b"filter"
    assert second["streamctl.source.offset"] == b"2"
    # the parked record with a null key was not output either: its `to` waited for the chain
    assert [json.loads(m.value) for m in read_topic(data, "out")] == [
        {"qty": 1, "amount": 1},
        {"qty": 3, "amount": 3},
    ]


def test_without_a_dead_letter_topic_the_worker_stops_naming_record_agent_step_and_line(
    tmp_path: Path,
) -> None:
    path = pipeline(tmp_path, COUNT)
    data = tmp_path / "d"
    send(path, data, ['{"qty": 1, "amount": 1}', '{"qty": 2, "amount": 2}'])
    for _ in range(2):  # the batch is not committed: the same record stops it again
        result = run(path, data)
        assert result.exit_code == 1
        last = result.stderr.strip().splitlines()[-1]
        line = line_of(path, "      - count: counts")
        assert last == (
            f"error: events[0]@0: agent 'c' failed in step count ({path}:{line}): TypeError: "
            "table 'counts': keys cannot be None (on_error: stop; give the agent a dead_letter "
            "topic or on_error: skip to go on past such records) "
            "(--log-level debug shows the traceback)"
        )
    assert read_topic(data, "out") == []
    assert dump(path, "counts", data) == {}


def test_two_huge_amounts_summed_into_a_float_table_park_the_second_and_roll_back_its_count(
    tmp_path: Path,
) -> None:
    path = pipeline(tmp_path, COUNT, agent="    dead_letter: bad")
    data = tmp_path / "d"
    send(
        path,
        data,
        ['{"qty": 1, "amount": 1e308}', '{"qty": 1, "amount": 1e308}', '{"qty": 1, "amount": 5}'],
        "-k",
        "k",
    )
    assert run(path, data).exit_code == 0
    # the second event's count was written before its add failed: rolled back with it
    assert dump(path, "counts", data) == {"k": 2}
    assert dump(path, "sums", data) == {"k": 1e308}
    ((key, value, headers),) = parked(data)
    assert (key, value) == (b"k", {"qty": 1, "amount": 1e308})
    assert headers["streamctl.step"] == b"add"
    assert headers["streamctl.error.type"] == b"ValueError"
    assert [json.loads(m.value)["amount"] for m in read_topic(data, "out")] == [1e308, 5]


def test_filter_on_a_missing_field_skips_only_that_record_and_outputs_the_good_ones(
    tmp_path: Path,
) -> None:
    path = pipeline(tmp_path, COUNT, agent="    on_error: skip")
    data = tmp_path / "d"
    send(
        path,
        data,
        ['{"qty": 1, "amount": 1}', '{"amount": 9}', '{"qty": 2, "amount": 2}'],
        "-k",
        "k",
    )
    result = run(path, data)
    assert result.exit_code == 0, result.output
    assert [json.loads(m.value) for m in read_topic(data, "out")] == [
        {"qty": 1, "amount": 1},
        {"qty": 2, "amount": 2},
    ]
    assert dump(path, "counts", data) == {"k": 2}
    assert "records not processed: agent 'c': 1 skipped (TypeError 1)" in result.stderr
    assert "(0 dead-lettered, 1 skipped)" in result.stderr


GROUPED = """\
app: g
topics:
  events: {partitions: 2, dead_letter: bad}
tables:
  ratio: {default: float}
agents:
  x:
    from: events
    on_error: %(policy)s
    steps:
      - filter: "qty >= 0"
      - group_by: user
      - map: {r: "10 / qty"}
      - set: {table: ratio, value: r}
"""


def test_map_after_group_by_dividing_by_zero_stops_naming_the_step(tmp_path: Path) -> None:
    path = tmp_path / "g.yaml"
    path.write_text(GROUPED % {"policy": "stop"})
    data = tmp_path / "d"
    send(path, data, ['{"user": "a", "qty": 0}'], "-k", "k")
    result = run(path, data)
    assert result.exit_code == 1
    last = result.stderr.strip().splitlines()[-1]
    line = line_of(path, '      - map: {r: "10 / qty"}')
    assert re.fullmatch(
        rf"error: g-events-user-repartition\[\d\]@0: agent 'x' failed in step map \({path}:{line}\): "
        r"ZeroDivisionError: division by zero \(on_error: stop; .*\) \(--log-level debug .*\)",
        last,
    ), last


def test_failures_before_and_after_group_by_are_parked_blaming_the_right_step(
    tmp_path: Path,
) -> None:
    path = tmp_path / "g.yaml"
    path.write_text(GROUPED % {"policy": "dead_letter"})
    data = tmp_path / "d"
    lines = [
        '{"user": "a", "qty": 2}',
        '{"user": "b", "qty": 0}',  # fails in map, after group_by
        '{"user": "c", "qty": 1}',
        '{"qty": 1}',  # no user: the group_by key is None
        '{"user": "e"}',  # no qty: the filter fails, before group_by
        '{"user": "d", "qty": 1}',
    ]
    send(path, data, lines, "-k", "k")
    result = run(path, data)
    assert result.exit_code == 0, result.output
    assert dump(path, "ratio", data) == {"a": 5.0, "c": 10.0, "d": 10.0}
    assert all(h["streamctl.agent"] == b"x" for _k, _v, h in parked(data))
    # each as it came: its own key and source offset, also when it failed after group_by
    offsets = {
        json.dumps(v): (k, h["streamctl.source.topic"], h["streamctl.source.offset"])
        for k, v, h in parked(data)
    }
    assert offsets == {
        '{"user": "b", "qty": 0}': (b"k", b"events", b"1"),
        '{"qty": 1}': (b"k", b"events", b"3"),
        '{"user": "e"}': (b"k", b"events", b"4"),
    }
    steps = {
        json.dumps(v): (h["streamctl.step"].decode(), h["streamctl.step.where"].decode())
        for _k, v, h in parked(data)
    }
    map_line = line_of(path, '      - map: {r: "10 / qty"}')
    group_line = line_of(path, "      - group_by: user")
    filter_line = line_of(path, '      - filter: "qty >= 0"')
    assert steps == {
        '{"user": "b", "qty": 0}': ("map", f"{path}:{map_line}"),
        '{"qty": 1}': ("group_by", f"{path}:{group_line}"),
        '{"user": "e"}': ("filter", f"{path}:{filter_line}"),
    }


def test_bad_on_error_values_are_refused_with_their_position(tmp_path: Path) -> None:
    path = tmp_path / "v.yaml"
    path.write_text(
        GROUPED.replace("dead_letter: bad", "").replace(
            "on_error: %(policy)s", "on_error: dead_letter"
        )
    )
    result = cli("validate", path)
    assert result.exit_code == PROBLEMS_FOUND
    assert f"{path}:{line_of(path, '    on_error: dead_letter')}:" in result.output
    assert "on_error: dead_letter needs a dead_letter topic" in result.output
    path.write_text(GROUPED % {"policy": "ignore"})
    result = cli("run", path, "-d", tmp_path / "d")
    assert result.exit_code == 2
    assert "on_error must be one of stop, skip, dead_letter, not 'ignore'" in result.output


@pytest.mark.parametrize("policy", ["skip", "dead_letter"])
def test_topic_on_error_decides_for_undecodable_records(tmp_path: Path, policy: str) -> None:
    path = tmp_path / "t.yaml"
    dl = ", dead_letter: bad" if policy == "dead_letter" else ""
    path.write_text(
        f"""\
app: t
topics:
  events: {{partitions: 1, value_type: int, on_error: {policy}{dl}}}
tables:
  counts: {{default: int}}
agents:
  c:
    from: events
    steps:
      - count: counts
"""
    )
    data = tmp_path / "d"
    send(path, data, ["1", '"x"', "2"], "-k", "k")
    result = run(path, data)
    assert result.exit_code == 0, result.output
    assert dump(path, "counts", data) == {"k": 2}
    if policy == "dead_letter":
        assert [v for _k, v, _h in parked(data)] == ["x"]
    else:
        assert "records not processed: topic events: 1 skipped (DecodeError 1)" in result.stderr
