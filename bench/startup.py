"""Start-up of ``streamctl run``: seconds from launch to the first event, for the quickstart.

    python bench/startup.py               # 7 runs on the embedded broker
    python bench/startup.py --repeat 15

Each run gets a fresh data dir holding pipelines/data/orders.jsonl in the quickstart's
``orders`` topic, then launches ``python -m streamctl.cli.main run
pipelines/quickstart.yaml --until-idle`` (this checkout's streamctl, by PYTHONPATH) and
notes when its plugin agent receives its first event, and when the process exits.
Prints medians with their ranges (seconds).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: the quickstart's plugin, noting the wall-clock time of its first event first
AGENT = """
import os, time
from quickstart_agents_orig import large_orders as _orig

async def large_orders(stream):
    first = True
    async def noted():
        nonlocal first
        async for order in stream:
            if first:
                first = False
                with open(os.environ["STARTUP_FIRST_EVENT"], "w") as f:
                    f.write(repr(time.time()))
            yield order
    async for out in _orig(noted()):
        yield out
"""


def seed(workdir: Path) -> None:
    from streamctl.app import App

    shutil.copy(ROOT / "pipelines" / "quickstart.yaml", workdir / "quickstart.yaml")
    shutil.copy(ROOT / "pipelines" / "quickstart_agents.py", workdir / "quickstart_agents_orig.py")
    (workdir / "quickstart_agents.py").write_text(AGENT)
    app = App("startup-seed", datadir=workdir / ".streamctl")
    app.topic("orders", partitions=4)
    app.ensure_topics()
    for line in (ROOT / "pipelines" / "data" / "orders.jsonl").read_text().splitlines():
        order = json.loads(line)
        app.producer.send("orders", str(order["customer_id"]).encode(), line.encode())
    app.producer.flush()
    app.close()


def one_run(base: Path, n: int) -> tuple[float, float]:
    workdir = base / f"run-{n}"
    workdir.mkdir()
    seed(workdir)
    marker = workdir / "first-event"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(workdir)]),
        "STARTUP_FIRST_EVENT": str(marker),
    }
    cmd = [sys.executable, "-m", "streamctl.cli.main", "run", "quickstart.yaml", "--until-idle"]
    start = time.time()
    proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True)
    done = time.time() - start
    if proc.returncode != 0 or not marker.exists():
        raise SystemExit(f"run failed (exit {proc.returncode}):\n{proc.stderr}")
    return float(marker.read_text()) - start, done


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=7, help="runs (the median is reported)")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="streamctl-startup-"))
    try:
        runs = [one_run(base, n) for n in range(max(1, args.repeat))]
    finally:
        shutil.rmtree(base, ignore_errors=True)
    first = [r[0] for r in runs]
    total = [r[1] for r in runs]
    print(f"streamctl startup ({ROOT}): python {sys.version.split()[0]}, {os.cpu_count()} cpu(s)")
    print(f"command: python bench/startup.py --repeat {args.repeat}")
    print(f"first event   {statistics.median(first):.3f} s [{min(first):.3f}..{max(first):.3f}]")
    print(
        f"run --until-idle exits {statistics.median(total):.3f} s "
        f"[{min(total):.3f}..{max(total):.3f}]"
    )


if __name__ == "__main__":
    main()
