"""``streamctl table`` against a running worker (#15 item 3): reads see the worker's
state before it reaches the local store; writes go to the worker and reach its next event."""

from __future__ import annotations

import json
from pathlib import Path

from observe_support import get_json, pipeline, send, wait_for, worker
from support import cli

from streamctl.admin import tables as admin
from streamctl.admin import workers
from streamctl.pipeline import load_pipeline

#: a remote write is committed with the next batch or after commit_interval: 60 s here
SLOW = "  commit_interval: 60\n"


def local_value(pipe: Path, datadir: Path, key: str) -> object:
    """The key's value in the local store (what the worker last committed)."""
    app = load_pipeline(pipe, datadir=datadir).app
    try:
        return admin.get(app, "counts", key)
    except admin.KeyNotFound:
        return None
    finally:
        app.close()


def processed(base: str) -> int:
    return int(get_json(base + "api/status")[1]["processed"])


def test_get_and_set_go_to_the_running_worker(tmp_path: Path) -> None:
    pipe, datadir = pipeline(tmp_path, "remote", SLOW), tmp_path / "data"
    words = ["a", "b", "a"]
    send(pipe, datadir, [{"w": w, "n": 1} for w in words])
    with worker(pipe, datadir) as base:
        wait_for(lambda: processed(base) == len(words))
        wait_for(lambda: local_value(pipe, datadir, "a") == 2)  # the idle commit
        assert len(workers.live(datadir, "remote")) == 1

        result = cli("table", "set", pipe, "counts", "a", "40", "-d", datadir)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout) == {
            "action": "set",
            "table": "counts",
            "key": "a",
            "value": 40,
        }
        # the worker holds the write, not yet committed: the local store has the old value
        result = cli("table", "get", pipe, "counts", "a", "-d", datadir)
        assert (result.exit_code, json.loads(result.stdout)) == (0, 40), result.output
        assert local_value(pipe, datadir, "a") == 2

        result = cli("table", "dump", pipe, "counts", "-d", datadir)
        assert json.loads(result.stdout) == {"a": 40, "b": 1}

        # the next event sees the value set
        send(pipe, datadir, [{"w": "a", "n": 1}])
        wait_for(lambda: processed(base) == len(words) + 1)
        wait_for(lambda: local_value(pipe, datadir, "a") == 41)

        result = cli("table", "del", pipe, "counts", "b", "-d", datadir)
        assert result.exit_code == 0, result.output
        result = cli("table", "get", pipe, "counts", "b", "-d", datadir)
        assert result.exit_code == 1 and "no key" in result.output
        result = cli("table", "set", pipe, "counts", "a", "many", "-d", datadir)
        assert result.exit_code == 2, result.output
    # stopped: the delete was committed as the worker stopped; reads are local again
    assert workers.live(datadir, "remote") == []
    assert local_value(pipe, datadir, "b") is None
    result = cli("table", "get", pipe, "counts", "a", "-d", datadir)
    assert (result.exit_code, json.loads(result.stdout)) == (0, 41)


def test_the_control_channel_wants_the_token(tmp_path: Path) -> None:
    pipe, datadir = pipeline(tmp_path, "token"), tmp_path / "data"
    send(pipe, datadir, [{"w": "a", "n": 1}])
    with worker(pipe, datadir):
        (entry,) = workers.live(datadir, "token")
        assert entry.path.stat().st_mode & 0o077 == 0
        forged = workers.Endpoint(
            entry.url, "not-the-token", entry.pid, entry.worker_id, entry.path
        )
        try:
            workers.ask(forged, "set", table="counts", key="a", value="7")
            raise AssertionError("a request without the token was served")
        except admin.TableError as exc:
            assert "token" in str(exc)
        wait_for(lambda: workers.ask(entry, "get", table="counts", key="a").get("value") == 1)


def test_a_failing_request_loses_no_write_made_before_it(tmp_path: Path) -> None:
    """A request that fails on the worker's loop takes back its own writes only: a set
    acknowledged before it, still waiting for its commit, stays (it was discarded with
    every pending write, processed events' included) (#15 review)."""
    pipe, datadir = pipeline(tmp_path, "failing", SLOW), tmp_path / "data"
    text = pipe.read_text().replace(
        "  counts: {default: int, partitions: 2}\n",
        "  counts: {default: int, partitions: 2}\n"
        "  ints: {key_type: int, default: int, partitions: 2}\n",
    )
    pipe.write_text(text)
    send(pipe, datadir, [{"w": "a", "n": 1}])
    with worker(pipe, datadir) as base:
        wait_for(lambda: processed(base) == 1)
        assert cli("table", "set", pipe, "counts", "a", "40", "-d", datadir).exit_code == 0
        # 1e400 is no JSON number a key can be encoded from: the read fails on the loop
        failed = cli("table", "get", pipe, "ints", "1e400", "-d", datadir)
        assert failed.exit_code == 2, failed.output
        result = cli("table", "get", pipe, "counts", "a", "-d", datadir)
        assert (result.exit_code, json.loads(result.stdout)) == (0, 40), result.output
    assert local_value(pipe, datadir, "a") == 40  # committed as the worker stopped
