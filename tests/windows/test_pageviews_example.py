"""The pageviews example, end to end through the CLI: every emitted window, exactly (#11)."""

from __future__ import annotations

import json
import shutil

from support import ROOT, cli


def test_pageviews_emits_each_closed_minute_once_with_its_final_count(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "pipelines", tmp_path / "pipelines")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STREAMCTL_DATADIR", str(tmp_path / ".streamctl"))
    pipeline = "pipelines/pageviews.yaml"
    sent = cli("send", "pageviews", "-p", pipeline, "--file", "pipelines/data/pageviews.jsonl")
    assert sent.exit_code == 0, sent.output
    for _ in range(2):  # a second run over drained input emits nothing again
        ran = cli("run", pipeline, "--until-idle")
        assert ran.exit_code == 0, ran.output
    tail = cli("topic", "tail", "pageviews-per-minute", "-p", pipeline)
    assert tail.exit_code == 0, tail.output
    records = [json.loads(line) for line in tail.stdout.splitlines()]
    got = [(r["key"], r["value"]["window"], r["value"]["value"]) for r in records]

    def minute(m: int) -> dict[str, str]:
        return {"start": f"2026-12-07T10:0{m}:00Z", "end": f"2026-12-07T10:0{m + 1}:00Z"}

    assert got == [
        ("about", minute(0), 1),
        ("home", minute(0), 3),
        ("about", minute(1), 1),
        ("home", minute(1), 1),  # the view at 10:01:50 came after 10:01 closed: dropped
        ("pricing", minute(1), 2),
        ("home", minute(2), 1),
        ("pricing", minute(2), 1),
    ]
    assert all(r["value"]["key"] == r["key"] for r in records)
    bad = cli("table", "get", pipeline, "views_per_minute", "home", "--at", "soon")
    assert bad.exit_code == 2 and "--at 'soon'" in bad.output
