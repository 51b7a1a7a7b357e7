"""``--log-format json`` and ``--until-idle --summary json`` (#15 item 4)."""

from __future__ import annotations

import io
import json
import logging
import socket
from collections import Counter
from pathlib import Path

from observe_support import pipeline, send
from support import streamctl_process

from streamctl.events import Event, set_current_event
from streamctl.observe.logs import JsonFormatter
from streamctl.transport.base import Message

GOOD = [{"w": w, "n": 1} for w in "hello world how are you"]
BAD = [{"n": 1}]


def test_until_idle_prints_a_json_summary_and_json_logs(tmp_path: Path) -> None:
    pipe, datadir = pipeline(tmp_path, "summ"), tmp_path / "data"
    send(pipe, datadir, GOOD + BAD)
    proc = streamctl_process(
        "run", pipe, "-d", datadir, "--until-idle", "--summary", "json", "--log-format", "json"
    )
    out, errs = proc.communicate(timeout=120)
    assert proc.returncode == 0, errs
    summary = json.loads(out)
    counts = Counter(r["w"] for r in GOOD)
    assert summary["events_in"]["words"] == len(GOOD) + len(BAD)
    assert summary["events_out"]["out"] == len(GOOD)
    assert summary["events_out"]["words-bad"] == len(BAD)
    assert summary["dead_letters"] == {"dead_letter:ValidationError": len(BAD)}
    assert summary["tables"] == {"counts": len(counts)}
    assert summary["processed"] == len(GOOD) + len(BAD)
    assert summary["duration_seconds"] > 0
    assert summary["events_per_second"] > 0
    lines = [json.loads(line) for line in errs.splitlines()]
    assert lines, "no log lines"
    for line in lines:
        assert {"time", "level", "logger", "message"} <= set(line)
    assert any("idle" in line["message"] for line in lines)


def test_bad_summary_format_is_refused(tmp_path: Path) -> None:
    proc = streamctl_process("run", pipeline(tmp_path), "--summary", "xml", "-d", tmp_path / "d")
    _out, errs = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "xml" in errs and "Traceback" not in errs


def test_a_json_line_names_the_event_being_processed() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("streamctl.test.jsonlogs")
    log.addHandler(handler)
    log.propagate = False
    log.setLevel(logging.INFO)  # not the level another test left on "streamctl"
    try:
        log.warning("outside")
        set_current_event(Event("k", 1, Message("orders", 3, 41, b"k", b"1", 0, [])))
        try:
            log.warning("inside %s", "an agent")
        finally:
            set_current_event(None)
    finally:
        log.removeHandler(handler)
        log.setLevel(logging.NOTSET)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "outside" and "topic" not in first
    assert (second["level"], second["logger"], second["message"]) == (
        "warning",
        "streamctl.test.jsonlogs",
        "inside an agent",
    )
    assert (second["topic"], second["partition"], second["offset"]) == ("orders", 3, 41)


def test_every_line_is_json_under_log_format_json(tmp_path: Path) -> None:
    """Errors too, from the quick path, from Typer's usage errors and from a command that
    Typer runs, are one JSON object each (#15 review)."""
    pipe, datadir = pipeline(tmp_path, "jsonerr"), tmp_path / "data"
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = str(busy.getsockname()[1])
    cases = {
        "no such pipeline file": ["run", tmp_path / "missing.yaml"],
        "Address already in use": ["run", pipe, "--metrics-port", port],
        "must be a port number": ["run", pipe, "--metrics-port", "70000"],
        "No such option: --nope": ["run", pipe, "--nope"],
        "Invalid value for --log-level: unknown log level 'loud'": [
            "run",
            pipe,
            "--log-level",
            "loud",
        ],
        "cannot import": ["worker", "-A", "no_such_module_xyz:app"],
    }
    try:
        for needle, args in cases.items():
            proc = streamctl_process(*args, "-d", datadir, "--log-format", "json")
            out, errs = proc.communicate(timeout=60)
            assert proc.returncode == 2, (args, errs)
            lines = [json.loads(line) for line in errs.splitlines()]  # every line is JSON
            assert lines[-1]["level"] == "error" and needle in lines[-1]["message"], errs
            assert lines[-1]["logger"] == "streamctl.cli" and lines[-1]["time"].endswith("Z")
            assert out == ""
    finally:
        busy.close()
