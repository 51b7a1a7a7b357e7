"""Session windows in a pipeline file, end to end through the CLI (#11)."""

from __future__ import annotations

import json

from support import cli

PIPELINE = """\
app: visits
topics:
  clicks: {partitions: 1}
  visits: {partitions: 1}
tables:
  sessions:
    default: int
    window: {session: {gap: 30m}, time: at}
    emit: {on: close, to: visits}
agents:
  sessionize:
    from: clicks
    steps:
      - group_by: user
      - count: sessions
"""

CLICKS = [
    ("ada", "10:00:00"),
    ("ada", "10:20:00"),  # within 30 min: the same visit
    ("ken", "10:05:00"),
    ("ada", "11:30:00"),  # 70 min later: a new visit; closes ken's and ada's first ones
    ("ken", "12:00:00"),
]


def test_sessions_are_counted_emitted_on_close_and_shown_by_table_get(tmp_path, monkeypatch):
    monkeypatch.setenv("STREAMCTL_DATADIR", str(tmp_path / "data"))
    path = tmp_path / "visits.yaml"
    path.write_text(PIPELINE)
    assert cli("validate", path).exit_code == 0
    data = tmp_path / "clicks.jsonl"
    data.write_text(
        "".join(json.dumps({"user": u, "at": f"2026-12-07T{t}Z"}) + "\n" for u, t in CLICKS)
    )
    assert cli("send", "clicks", "-p", path, "--file", data).exit_code == 0
    ran = cli("run", path, "--until-idle")
    assert ran.exit_code == 0, ran.output
    tail = cli("topic", "tail", "visits", "-p", path)
    got = [json.loads(line) for line in tail.stdout.splitlines()]
    visits = [
        (
            r["key"],
            r["value"]["window"]["start"][11:16],
            r["value"]["window"]["end"][11:16],
            r["value"]["value"],
        )
        for r in got
    ]
    # in the order they closed (end + gap): ken's at 10:35, ada's at 10:50
    assert visits[:2] == [("ken", "10:05", "10:05", 1), ("ada", "10:00", "10:20", 2)]
    shown = cli("table", "get", path, "sessions", "ada", "--format", "json")
    assert shown.exit_code == 0, shown.output
    rows = [(r["start"][11:16], r["end"][11:16], r["value"]) for r in json.loads(shown.stdout)]
    assert rows[:2] == [("10:00", "10:20", 2), ("11:30", "11:30", 1)]
    at = cli("table", "get", path, "sessions", "ada", "--at", "2026-12-07T10:10:00Z")
    assert at.exit_code == 0 and at.stdout.strip() == "2", at.output
    dump = cli("table", "dump", path, "sessions", "--format", "json")
    assert [(r["key"], r["start"][11:16]) for r in json.loads(dump.stdout)][:3] == [
        ("ada", "10:00"),
        ("ada", "11:30"),
        ("ken", "10:05"),
    ]
    # dump --at: each key's session holding the time (a session's end, its last event, in it)
    held = cli("table", "dump", path, "sessions", "--at", "2026-12-07T10:20:00Z", "-f", "jsonl")
    assert held.exit_code == 0, held.output
    got = [json.loads(line) for line in held.stdout.splitlines()]
    assert [(r["key"], r["start"][11:16], r["end"][11:16], r["value"]) for r in got] == [
        ("ada", "10:00", "10:20", 2)  # ken's 10:05 session ended at 10:05
    ]
