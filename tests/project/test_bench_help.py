"""``bench/bench.py --help`` documents every scenario it runs (#14's "done when")."""

from __future__ import annotations

import subprocess
import sys

from support import ROOT


def test_bench_help_lists_every_scenario() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import bench
    finally:
        sys.path.remove(str(ROOT / "bench"))
    res = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = res.stdout.splitlines()
    for letter, (title, _) in bench.SCENARIOS.items():
        assert any(line.split()[:1] == [letter] and title in line for line in lines), letter
