"""The pageviews example, end to end through the CLI: every emitted window, exactly (#11).

``--until-idle`` closes the windows still open when the input is exhausted (the end of
bounded input, as Flink's final watermark), so every minute's final count is emitted.
"""

from __future__ import annotations

import json
import shutil

from support import ROOT, cli

PIPELINE = "pipelines/pageviews.yaml"


def minute(m: int) -> dict[str, str]:
    return {"start": f"2026-12-07T10:{m:02d}:00Z", "end": f"2026-12-07T10:{m + 1:02d}:00Z"}


def emitted() -> list:
    tail = cli("topic", "tail", "pageviews-per-minute", "-p", PIPELINE)
    assert tail.exit_code == 0, tail.output
    records = [json.loads(line) for line in tail.stdout.splitlines()]
    assert all(r["value"]["key"] == r["key"] for r in records)
    return [(r["key"], r["value"]["window"], r["value"]["value"]) for r in records]


def test_pageviews_emits_each_minute_once_with_its_final_count(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "pipelines", tmp_path / "pipelines")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STREAMCTL_DATADIR", str(tmp_path / ".streamctl"))
    sent = cli("send", "pageviews", "-p", PIPELINE, "--file", "pipelines/data/pageviews.jsonl")
    assert sent.exit_code == 0, sent.output
    for _ in range(2):  # a second run over drained input emits nothing again
        ran = cli("run", PIPELINE, "--until-idle")
        assert ran.exit_code == 0, ran.output
    final = [
        ("about", minute(0), 1),
        ("home", minute(0), 3),
        ("about", minute(1), 1),
        ("home", minute(1), 1),  # the view at 10:01:50 came after 10:01 closed: dropped
        ("pricing", minute(1), 2),
        ("home", minute(2), 1),
        ("pricing", minute(2), 1),
        ("home", minute(3), 1),  # open when the input ended: closed by --until-idle
    ]
    assert emitted() == final
    dump = cli("table", "dump", PIPELINE, "views_per_minute", "--format", "json")
    assert {r["state"] for r in json.loads(dump.stdout)} == {"closed"}

    # more input later: a view in the closed 10:03 is late; 10:04 is a new window
    views = tmp_path / "more.jsonl"
    views.write_text(
        json.dumps({"page": "home", "user": "ada", "viewed_at": "2026-12-07T10:03:40Z"})
        + "\n"
        + json.dumps({"page": "home", "user": "ken", "viewed_at": "2026-12-07T10:04:10Z"})
        + "\n"
    )
    assert cli("send", "pageviews", "-p", PIPELINE, "--file", views).exit_code == 0
    ran = cli("run", PIPELINE, "--until-idle", "--summary", "json")
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.stdout.splitlines()[-1])["late_dropped"] == {"views_per_minute": 1}
    assert emitted() == [*final, ("home", minute(4), 1)]
    bad = cli("table", "get", PIPELINE, "views_per_minute", "home", "--at", "soon")
    assert bad.exit_code == 2 and "--at 'soon'" in bad.output
    for when in ("soon", "nan", "-5"):  # dump --at refuses what get --at refuses, in one line
        got = cli("table", "get", PIPELINE, "views_per_minute", "home", "--at", when)
        bad = cli("table", "dump", PIPELINE, "views_per_minute", "--at", when)
        assert bad.exit_code == got.exit_code == 2, bad.output
        assert bad.output == got.output and len(bad.output.strip().splitlines()) == 1
    at = cli("table", "dump", PIPELINE, "views_per_minute", "--at", "2026-12-07T10:01:00Z")
    assert at.exit_code == 0, at.output
    held = [(r["key"], r["start"], r["value"], r["state"]) for r in json.loads(at.stdout)]
    assert held == [  # a window's end is exclusive: 10:01:00 is in 10:01, not 10:00
        ("about", minute(1)["start"], 1, "closed"),
        ("home", minute(1)["start"], 1, "closed"),
        ("pricing", minute(1)["start"], 2, "closed"),
    ]
    none = cli("table", "dump", PIPELINE, "views_per_minute", "--at", "2026-12-07T09:00:00Z")
    assert none.exit_code == 0 and json.loads(none.stdout) == []
