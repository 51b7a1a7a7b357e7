"""The run summary (text and JSON) counts late events dropped per windowed table (#11)."""

from __future__ import annotations

import json
import shutil

from support import ROOT, cli


def test_the_run_summary_reports_late_events_dropped_per_table(tmp_path, monkeypatch) -> None:
    shutil.copytree(ROOT / "pipelines", tmp_path / "pipelines")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STREAMCTL_DATADIR", str(tmp_path / ".streamctl"))
    pipeline = "pipelines/pageviews.yaml"
    data = "pipelines/data/pageviews.jsonl"
    assert cli("send", "pageviews", "-p", pipeline, "--file", data).exit_code == 0
    ran = cli("run", pipeline, "--until-idle", "--summary", "json")
    assert ran.exit_code == 0, ran.output
    summary = json.loads(ran.stdout.strip().splitlines()[-1])
    # the view of home at 10:01:50 came after 10:01 had closed (pageviews.yaml's header)
    assert summary["late_dropped"] == {"views_per_minute": 1}
    assert "1 late dropped (table views_per_minute 1)" in ran.stderr, ran.stderr
    # nothing late in a run that reads nothing new: the line says nothing of late events
    again = cli("run", pipeline, "--until-idle", "--summary", "json")
    assert json.loads(again.stdout.strip().splitlines()[-1])["late_dropped"] == {
        "views_per_minute": 0
    }
    assert "late dropped" not in again.stderr
