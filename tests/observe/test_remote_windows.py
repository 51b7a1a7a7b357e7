"""Windowed tables of a running worker (#15 item 3): ``streamctl table get/dump`` (with
``--at``) and the web view's key lookup list the worker's windows as the offline
commands do; ``set``/``del`` of a windowed key is refused, live or not, and leaves the
table readable."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from observe_support import get_json, wait_for, worker
from support import ROOT, cli

from streamctl.admin import windows as admin_windows

PIPELINE = "pipelines/pageviews.yaml"
HOME = [  # pipelines/data/pageviews.jsonl: home's minutes (the 10:01:50 view came late)
    ("2026-12-07T10:00:00Z", "2026-12-07T10:01:00Z", 3, "closed"),
    ("2026-12-07T10:01:00Z", "2026-12-07T10:02:00Z", 1, "closed"),
    ("2026-12-07T10:02:00Z", "2026-12-07T10:03:00Z", 1, "closed"),
    ("2026-12-07T10:03:00Z", "2026-12-07T10:04:00Z", 1, "open"),
]


def rows(result: Any) -> list[tuple[Any, ...]]:
    assert result.exit_code == 0, result.output
    return [(r["start"], r["end"], r["value"], r["state"]) for r in json.loads(result.stdout)]


def reads(datadir: Path) -> dict[str, Any]:
    """Every windowed read the CLI and the web view make, as their outputs."""
    get = cli("table", "get", PIPELINE, "views_per_minute", "home", "-d", datadir)
    at = cli(
        "table", "get", PIPELINE, "views_per_minute", "home", "--at", "2026-12-07T10:00:30Z",
        "-d", datadir,
    )  # fmt: skip
    dump = cli("table", "dump", PIPELINE, "views_per_minute", "-d", datadir, "-f", "jsonl")
    dump_at = cli(
        "table", "dump", PIPELINE, "views_per_minute", "--at", "2026-12-07T10:00:30Z",
        "-d", datadir, "-f", "jsonl",
    )  # fmt: skip
    assert dump_at.exit_code == 0, dump_at.output
    missing = cli("table", "get", PIPELINE, "views_per_minute", "nope", "-d", datadir)
    assert at.exit_code == 0 and dump.exit_code == 0, at.output + dump.output
    assert missing.exit_code == 1 and "no windows of key 'nope'" in missing.output
    return {
        "get": rows(get),
        "at": json.loads(at.stdout),
        "dump": [json.loads(line) for line in dump.stdout.splitlines()],
        "dump_at": [json.loads(line) for line in dump_at.stdout.splitlines()],
    }


def test_windowed_reads_go_to_the_running_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(ROOT / "pipelines", tmp_path / "pipelines")
    monkeypatch.chdir(tmp_path)
    datadir = tmp_path / "data"
    sent = cli("send", "pageviews", "-p", PIPELINE, "-d", datadir, "--file",
               "pipelines/data/pageviews.jsonl")  # fmt: skip
    assert sent.exit_code == 0, sent.output

    def offline(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a windowed read went to the local stores while a worker runs")

    with worker(tmp_path / PIPELINE, datadir) as base:
        wait_for(lambda: get_json(base + "api/status")[1]["processed"] == 12)
        with monkeypatch.context() as m:
            m.setattr(admin_windows, "window_rows", offline)
            live = reads(datadir)
        code, found = get_json(base + "api/tables/views_per_minute/home")
        assert (code, found["found"], found["key"]) == (200, True, "home")
        assert [tuple(w.values()) for w in found["value"]] == HOME
        assert get_json(base + "api/tables/views_per_minute/nope")[0] == 404
        for action in (["set", "home", "5"], ["del", "home"]):
            refused = cli("table", action[0], PIPELINE, "views_per_minute", *action[1:],
                          "-d", datadir)  # fmt: skip
            assert refused.exit_code == 2, refused.output
            assert "it is windowed" in refused.output
    assert live["get"] == HOME
    assert live["at"] == 3
    assert len(live["dump"]) == 8 and [r["key"] for r in live["dump"]].count("home") == 4
    # the windows holding 10:00:30, per key: minute 0 of each page viewed in it
    assert [(r["key"], r["start"], r["end"], r["value"]) for r in live["dump_at"]] == [
        ("about", "2026-12-07T10:00:00Z", "2026-12-07T10:01:00Z", 1),
        ("home", "2026-12-07T10:00:00Z", "2026-12-07T10:01:00Z", 3),
    ]
    assert reads(datadir) == live  # stopped: the local stores say the same


def test_a_windowed_key_cannot_be_set_offline(tmp_path: Path, monkeypatch) -> None:
    shutil.copytree(ROOT / "pipelines", tmp_path / "pipelines")
    monkeypatch.chdir(tmp_path)
    datadir = tmp_path / "data"
    cli("send", "pageviews", "-p", PIPELINE, "-d", datadir, "--file",
        "pipelines/data/pageviews.jsonl")  # fmt: skip
    assert cli("run", PIPELINE, "-d", datadir, "--until-idle").exit_code == 0
    for action in (["set", "home", "5"], ["del", "home"]):
        refused = cli("table", action[0], PIPELINE, "views_per_minute", *action[1:], "-d", datadir)
        assert refused.exit_code == 2 and "it is windowed" in refused.output, refused.output
    # --until-idle closed the last window at the end of input (#11); nothing else changed
    closed = [(*window[:3], "closed") for window in HOME]
    assert rows(cli("table", "get", PIPELINE, "views_per_minute", "home", "-d", datadir)) == closed
