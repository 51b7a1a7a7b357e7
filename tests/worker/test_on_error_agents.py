"""The per-record error policy of plugin (Python) agents (#9 §1): a failed event is parked
or skipped and the agent goes on with the next one; or the worker stops naming it."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from support import cli, read_topic

from streamctl import App
from streamctl.agents import AgentError
from streamctl.exceptions import ConfigurationError
from streamctl.testing import read_table, run_until_idle, send
from streamctl.testing import read_topic as read_events

PLUGIN = """\
async def agent(stream):
    seen = stream.app.tables["seen"]
    async for v in stream:
        seen[v["id"]] = v["id"]
        if v.get("boom"):
            raise RuntimeError(f"boom {v['id']}")
"""

PIPELINE = """\
app: pl
topics:
  events: {partitions: 1}
tables:
  seen: {default: int}
agents:
  p:
    from: events
    dead_letter: bad
    use: onerr_plug:agent
"""


def test_a_plugin_agent_raising_on_one_record_parks_it_and_goes_on(tmp_path: Path) -> None:
    (tmp_path / "onerr_plug.py").write_text(PLUGIN)
    path = tmp_path / "pl.yaml"
    path.write_text(PIPELINE)
    data = tmp_path / "d"
    lines = ['{"id": 1}', '{"id": 2, "boom": 1}', '{"id": 3}', '{"id": 4, "boom": 1}', '{"id": 5}']
    sent = cli(
        "send", "events", "-p", path, "-d", data, "-k", "k", "--file", "-", input="\n".join(lines)
    )
    assert sent.exit_code == 0, sent.output
    result = cli("run", path, "-d", data, "--until-idle")
    assert result.exit_code == 0, result.output
    dumped = cli("table", "dump", path, "seen", "-d", data)
    # the failed events' writes were rolled back; the agent went on after each
    assert json.loads(dumped.stdout) == {"1": 1, "3": 3, "5": 5}
    dead = read_topic(data, "bad")
    assert [json.loads(m.value) for m in dead] == [{"id": 2, "boom": 1}, {"id": 4, "boom": 1}]
    headers = dict(dead[0].headers)
    assert headers["streamctl.error"] == b"boom 2"
    assert headers["streamctl.error.type"] == b"RuntimeError"
    assert headers["streamctl.agent"] == b"p"
    assert headers["streamctl.step"] == b"use"
    assert headers["streamctl.step.where"] == f"{path}:10".encode()
    assert dead[0].key == b"k"
    # one summary line, not one warning per record or batch
    summary = [x for x in result.stderr.splitlines() if "records not processed" in x]
    assert len(summary) == 1
    assert summary[0].endswith("records not processed: agent 'p': 2 sent to bad (RuntimeError 2)")


def make(tmp_path: Path, **agent: Any) -> tuple[App, list[Any]]:
    app = App("a", broker="memory://", datadir=tmp_path, store="memory://")
    src = app.topic("in", partitions=1)
    out = app.topic("out", partitions=1)
    totals = app.Table("totals", default=int, partitions=1)
    log: list[Any] = []

    @app.agent(src, sink=[out], **agent)
    async def fragile(stream):  # type: ignore[no-untyped-def]
        async for value in stream.group_by(lambda v: v["user"], name="user"):
            totals[value["user"]] += value["n"]
            if value["n"] == 0:
                raise ValueError("n must not be 0")
            log.append(value["n"])
            yield value["n"]

    return app, log


def feed(app: App, values: list[dict[str, Any]]) -> None:
    for v in values:
        send(app, "in", v, key="k")


def test_python_agent_on_error_skip_restarts_it_after_the_event_through_group_by(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app, log = make(tmp_path, on_error="skip")
    feed(
        app,
        [
            {"user": "a", "n": 1},
            {"user": "a", "n": 0},
            {"user": "b", "n": 2},
            {"user": "a", "n": 3},
        ],
    )
    with caplog.at_level(logging.WARNING, "streamctl.worker"):
        assert run_until_idle(app) == 0
    assert log == [1, 2, 3]
    assert read_table(app, "totals") == {"a": 4, "b": 2}
    assert sorted(e.value for e in read_events(app, "out")) == [1, 2, 3]
    assert [r.getMessage() for r in caplog.records if "not processed" in r.getMessage()] == [
        "records not processed: agent 'fragile': 1 skipped (ValueError 1)"
    ]


def test_python_agent_on_error_stop_names_the_record_and_commits_nothing(tmp_path: Path) -> None:
    app, _log = make(tmp_path, on_error="stop", dead_letter="bad")
    feed(app, [{"user": "a", "n": 1}, {"user": "a", "n": 0}])
    with pytest.raises(AgentError) as info:
        run_until_idle(app)
    line = fragile_line()
    assert str(info.value) == (
        f"a-in-user-repartition[0]@1: agent 'fragile' failed at {__file__}:{line}: ValueError: "
        "n must not be 0 (on_error: stop; give the agent a dead_letter topic or on_error: skip "
        "to go on past such records)"
    )


def fragile_line() -> int:
    lines = Path(__file__).read_text().splitlines()
    return lines.index('                raise ValueError("n must not be 0")') + 1


def test_python_agent_default_policy_follows_the_dead_letter_topic(tmp_path: Path) -> None:
    app, _log = make(tmp_path, dead_letter="bad")
    feed(app, [{"user": "a", "n": 0}, {"user": "a", "n": 5}])
    assert run_until_idle(app) == 0
    assert read_table(app, "totals") == {"a": 5}
    (parked,) = read_events(app, "bad")
    assert parked.value == {"user": "a", "n": 0}
    headers = dict(parked.headers)
    assert headers["streamctl.step"] == b"agent"
    assert headers["streamctl.step.where"] == f"{__file__}:{fragile_line()}".encode()
    # parked as it came to the app, not as group_by repartitioned it
    assert parked.message.key == b"k"
    assert (headers["streamctl.source.topic"], headers["streamctl.source.offset"]) == (b"in", b"0")
    assert not [k for k in headers if k.startswith("streamctl.origin")]


def test_on_error_values_are_checked_when_the_agent_is_declared(tmp_path: Path) -> None:
    app = App("a", broker="memory://", datadir=tmp_path)
    with pytest.raises(ConfigurationError, match="on_error must be one of stop, skip, dead_letter"):
        app.agent(app.topic("in"), on_error="ignore")(idle_agent)
    with pytest.raises(ConfigurationError, match="needs a dead_letter topic"):
        app.agent(app.topic("in"), on_error="dead_letter")(idle_agent)


async def idle_agent(stream: Any) -> None:
    async for _ in stream:
        pass


def test_a_failed_event_rolls_back_only_the_failing_agents_writes(tmp_path: Path) -> None:
    app = App("two", broker="memory://", datadir=tmp_path, store="memory://")
    src = app.topic("in", partitions=1)
    a_seen = app.Table("a_seen", default=int, partitions=1)
    b_seen = app.Table("b_seen", default=int, partitions=1)

    @app.agent(src)
    async def steady(stream):  # type: ignore[no-untyped-def]
        async for value in stream:
            a_seen[value] += 1

    @app.agent(src, on_error="skip")
    async def picky(stream):  # type: ignore[no-untyped-def]
        async for value in stream:
            b_seen[value] += 1
            a_seen["picky"] += 1  # the same table as the other agent: rolled back too
            if value == "x":
                raise ValueError("no x")

    for v in ["a", "x", "b"]:
        send(app, "in", v, key="k")
    assert run_until_idle(app) == 0
    assert read_table(app, "a_seen") == {"a": 1, "x": 1, "b": 1, "picky": 2}
    assert read_table(app, "b_seen") == {"a": 1, "b": 1}


@pytest.mark.parametrize("concurrency", [1, 2])
def test_what_a_failed_event_yielded_is_not_sent(tmp_path: Path, concurrency: int) -> None:
    app = App("y", broker="memory://", datadir=tmp_path, store="memory://")
    src = app.topic("in", partitions=2)
    out = app.topic("out", partitions=1)

    @app.agent(src, sink=[out], concurrency=concurrency, dead_letter="bad")
    async def twice(stream):  # type: ignore[no-untyped-def]
        async for value in stream:
            yield f"{value}-1"
            if value.startswith("x"):
                raise ValueError("x after its first output")
            yield f"{value}-2"

    for i, v in enumerate(["a", "x1", "b", "c", "x2", "d"]):
        send(app, "in", v, key=v, partition=i % 2)
    assert run_until_idle(app) == 0
    sent = sorted(e.value for e in read_events(app, "out"))
    assert sent == ["a-1", "a-2", "b-1", "b-2", "c-1", "c-2", "d-1", "d-2"]
    assert sorted(e.value for e in read_events(app, "bad")) == ["x1", "x2"]
