"""A window closes once across a SIGKILL and restart, and after its stores are wiped.

The worker keeps its last windows open at idle (``window_close_on_idle=False``), so a
rebuilt open window can be seen to close later, once.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import textwrap

from streamctl.app import App
from streamctl.testing import read_topic

SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    from streamctl.app import App
    datadir, kill_at, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    app = App("crash", broker="local://", datadir=datadir, max_poll_records=5,
              commit_interval=0, window_wall_clock=False, window_close_on_idle=False)
    src = app.topic("clicks", key_type=str)
    out = app.topic("closed", key_type=str)
    fired = 0
    def closed(key, value):
        global fired
        with open(log, "a") as f:
            f.write(f"{key[1][0]:g} {value}\\n")
        fired += 1
        if fired == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
    table = app.Table("clicks", default=int, on_window_close=closed)
    windows = table.tumbling(60)
    table.emit_windows(out)
    @app.agent(src)
    async def count(stream):
        async for event in stream.events():
            windows[event.key] += 1
    sys.exit(app.run(until_idle=True))
    """
)


def run(tmp_path, kill_at=0):
    script = tmp_path / "worker.py"
    script.write_text(SCRIPT)
    log = tmp_path / "fired.log"
    return subprocess.run(
        [sys.executable, str(script), str(tmp_path / "data"), str(kill_at), str(log)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def send(tmp_path, seconds):
    app = App("crash", broker="local://", datadir=tmp_path / "data")
    src = app.topic("clicks", key_type=str)
    app.ensure_topics()
    for s in seconds:
        asyncio.run(src.send(key="k", value=1, timestamp=s))
    return app


def emitted(app):
    return [
        (e.value["window"]["start"][11:16], e.value["value"]) for e in read_topic(app, "closed")
    ]


def test_closed_once_across_sigkill_restart_and_wiped_stores(tmp_path) -> None:
    app = send(tmp_path, range(0, 600, 10))  # six clicks a minute for ten minutes
    killed = run(tmp_path, kill_at=3)
    assert killed.returncode == -9, killed.stderr
    first = (tmp_path / "fired.log").read_text().split("\n")
    assert first[:3] == ["0 6", "60 6", "120 6"]  # the third close's batch never committed
    done = run(tmp_path)
    assert done.returncode == 0, done.stderr
    minutes = [f"00:{m:02d}" for m in range(9)]
    assert emitted(app) == [(m, 6) for m in minutes]  # each window once, its final count
    fired_after = (tmp_path / "fired.log").read_text().split()[6:]
    # the restart fired the aborted third close again and never the two committed ones
    assert fired_after[:2] == ["120", "6"]
    assert len(fired_after) == 2 * 7

    shutil.rmtree(tmp_path / "data" / "stores")  # the changelog rebuilds every window
    before = (tmp_path / "fired.log").read_text()
    again = run(tmp_path)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "fired.log").read_text() == before  # nothing closed fires again
    assert emitted(app) == [(m, 6) for m in minutes]

    # the rebuilt open window (09:00) closes on the next minute's click, which closes its own
    send(tmp_path, [600, 660])
    assert run(tmp_path).returncode == 0
    assert emitted(app) == [(m, 6) for m in minutes] + [("00:09", 6), ("00:10", 1)]
