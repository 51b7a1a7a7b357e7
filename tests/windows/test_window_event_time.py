"""Unusable event times: one clear line naming the field, the value and what is accepted."""

from __future__ import annotations

import json

import pytest
from support import cli, read_topic

from streamctl.exceptions import StreamctlError
from streamctl.tables.windows.eventtime import EventTimeError, to_seconds

PIPELINE = """\
app: et
topics:
  views: {partitions: 1}
  views-bad: {partitions: 1}
tables:
  per_minute: {default: int, window: {tumbling: 1m, time: ts}}
agents:
  counter:
    from: views
    %s
    steps:
      - group_by: page
      - count: per_minute
"""

BAD = [
    (1e20, "is 1e+20, after 8999-12-31"),
    ("nan", "is 'nan', not a number"),
    ("inf", "is 'inf', infinite"),
    (-5, "is -5, before 1970"),
    ("soon", "is 'soon', neither an ISO 8601 date-time nor a number"),
    (None, "is None, a NoneType, not a time"),
]
ACCEPTED = "accepted: a datetime, ISO 8601 text, or epoch seconds or milliseconds"


def setup(tmp_path, monkeypatch, policy: str, rows: list[dict]):
    monkeypatch.setenv("STREAMCTL_DATADIR", str(tmp_path / "data"))
    path = tmp_path / "p.yaml"
    path.write_text(PIPELINE % policy)
    data = tmp_path / "views.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    sent = cli("send", "views", "-p", path, "--file", data)
    assert sent.exit_code == 0, sent.output
    return path


def test_each_unusable_time_is_dead_lettered_with_a_one_line_reason(tmp_path, monkeypatch):
    rows = [{"page": "home", "ts": v} for v, _ in BAD]
    rows.insert(2, {"page": "home"})  # no time field at all
    rows.append({"page": "home", "ts": "2026-12-07T10:00:05Z"})  # a good one still counts
    path = setup(tmp_path, monkeypatch, "dead_letter: views-bad", rows)
    ran = cli("run", path, "--until-idle")
    assert ran.exit_code == 0, ran.output
    parked = read_topic(tmp_path / "data", "views-bad")
    reasons = [dict(m.headers)["streamctl.error"].decode() for m in parked]
    kinds = {dict(m.headers)["streamctl.error.type"] for m in parked}
    assert kinds == {b"EventTimeError"}
    wanted = [f"event time field 'ts' {why}" for _v, why in BAD]
    wanted.insert(2, "the event has no event time field 'ts'")
    assert len(reasons) == len(wanted)
    for reason, want in zip(reasons, wanted):
        assert reason.startswith(want), reason
        assert ACCEPTED in reason and "\n" not in reason
    dump = cli("table", "dump", path, "per_minute", "--format", "json")
    assert dump.exit_code == 0, dump.output
    assert [r["value"] for r in json.loads(dump.stdout)] == [1]


def test_stopping_on_an_unusable_time_names_the_record_and_the_field(tmp_path, monkeypatch):
    path = setup(tmp_path, monkeypatch, "on_error: stop", [{"page": "home", "ts": 1e20}])
    ran = cli("run", path, "--until-idle")
    assert ran.exit_code == 1
    lines = [line for line in ran.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in ran.stderr, ran.stderr
    assert "EventTimeError: event time field 'ts' is 1e+20, after 8999-12-31" in lines[0]
    assert "agent 'counter'" in lines[0]


def test_a_record_timestamp_before_1970_is_refused_clearly() -> None:
    from streamctl.tables.windows.eventtime import record_time

    with pytest.raises(EventTimeError, match=r"the record timestamp \(milliseconds\) is -1"):
        record_time(-1)
    assert issubclass(EventTimeError, StreamctlError)


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 1e20, -0.5, "x", [1], True])
def test_to_seconds_refuses_unusable_values(value) -> None:
    with pytest.raises(EventTimeError, match=ACCEPTED):
        to_seconds(value, source="event time field 'at'")


def test_usable_times_are_read() -> None:
    assert to_seconds("2026-12-07T10:00:00Z") == 1796637600.0
    assert to_seconds(1796637600000) == 1796637600.0  # detected milliseconds
    assert to_seconds(0) == 0.0
