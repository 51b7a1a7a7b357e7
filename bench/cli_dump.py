"""``streamctl table dump`` of a 60,000-key table in each format: seconds, wall time.

    python bench/cli_dump.py              # 60,000 keys, every format, median of 3
    python bench/cli_dump.py --keys 10000

The target (#10): under 3 s in every format, the whole command (start-up, opening the
stores, sorting, printing) as a user runs it, output to a file.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streamctl.pipeline import load_pipeline  # noqa: E402
from streamctl.worker import commit  # noqa: E402

PIPELINE = """\
app: dumpbench
topics:
  events: {partitions: 4}
tables:
  totals: {default: float}
"""


def fill(pipeline: Path, datadir: Path, keys: int) -> None:
    app = load_pipeline(pipeline, datadir=datadir).app
    table = app.tables["totals"]
    table.recover(app.transport, None)
    for i in range(keys):
        table[f"customer-{i:06d}"] = i * 1.5
    commit.commit_batch(table, app.producer)
    app.close()


def dump(pipeline: Path, datadir: Path, fmt: str) -> float:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    started = time.perf_counter()
    with open(os.devnull, "w") as sink:
        subprocess.run(
            [sys.executable, "-m", "streamctl.cli.main", "table", "dump", str(pipeline), "totals"]
            + ["-d", str(datadir), "-f", fmt],
            check=True,
            stdout=sink,
            env=env,
        )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=60_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pipeline = Path(tmp) / "dump.yaml"
        pipeline.write_text(PIPELINE)
        datadir = Path(tmp) / "data"
        fill(pipeline, datadir, args.keys)
        print(f"table dump of {args.keys:,} keys (median of {args.repeat}, target < 3 s)")
        for fmt in ("json", "jsonl", "table"):
            times = [dump(pipeline, datadir, fmt) for _ in range(args.repeat)]
            print(f"  -f {fmt:<6} {statistics.median(times):6.2f} s")


if __name__ == "__main__":
    main()
