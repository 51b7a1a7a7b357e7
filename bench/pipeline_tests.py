"""``streamctl test``: seconds per pipeline unit test, and the whole ``streamctl test pipelines/`` run.

    python bench/pipeline_tests.py               # 5 rounds
    python bench/pipeline_tests.py --repeat 9

Each round runs every test of the examples in pipelines/ in this process (as the
command does: a fresh in-memory App per test, its worker until idle, the topics and
tables read back), then times ``python -m streamctl.cli.main test pipelines/`` as a
process (start-up included), in wall-clock and in CPU seconds (user + system: on a
shared, loaded machine the wall clock mostly measures waiting). Prints medians with
their ranges, in seconds.
"""

from __future__ import annotations

import argparse
import logging
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    logging.getLogger("streamctl").setLevel(logging.ERROR)  # as `streamctl test` logs
    from streamctl.cli.validate import expand_paths
    from streamctl.pipeline.testrun import collect_tests, run_test

    planned = [(p, t) for p in expand_paths([str(ROOT / "pipelines")]) for t in collect_tests(p)]
    per_test: dict[str, list[float]] = {}
    whole: list[float] = []
    cpu: list[float] = []
    for _ in range(args.repeat):
        for pipeline, test in planned:
            result = run_test(pipeline, test)
            assert result.passed, result.failures
            per_test.setdefault(f"{pipeline.name}: {test.name}", []).append(result.seconds)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "streamctl.cli.main", "test", "pipelines/"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        whole.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    everyone = [s for times in per_test.values() for s in times]
    print(f"{len(planned)} tests, {args.repeat} rounds")
    for name, times in per_test.items():
        print(f"  {statistics.median(times):.3f}s ({min(times):.3f}-{max(times):.3f})  {name}")
    print(f"per test: median {statistics.median(everyone):.3f}s, slowest {max(everyone):.3f}s")
    print(
        f"streamctl test pipelines/ (a process): median {statistics.median(whole):.2f}s "
        f"({min(whole):.2f}-{max(whole):.2f}), CPU {statistics.median(cpu):.2f}s "
        f"({min(cpu):.2f}-{max(cpu):.2f})"
    )


if __name__ == "__main__":
    main()
