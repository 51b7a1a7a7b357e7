"""Helpers for the state-safety tests (#9 section 5): a counting pipeline, file snapshots."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from support import cli

PIPELINE = """\
app: counter
topics:
  words: {partitions: 2}
tables:
  counts: {default: int, partitions: 2}
agents:
  count:
    from: words
    steps:
      - group_by: w
      - count: counts
"""


def pipeline(tmp_path: Path) -> Path:
    path = tmp_path / "counter.yaml"
    path.write_text(PIPELINE)
    return path


def send_words(pipe: Path, datadir: Path, words: list[str]) -> None:
    tmp = datadir.parent / f"words-{len(words)}.jsonl"
    tmp.write_text("".join(json.dumps({"w": w}) + "\n" for w in words))
    result = cli("send", "words", "-p", pipe, "-d", datadir, "--file", tmp)
    assert result.exit_code == 0, result.output


def run(pipe: Path, datadir: Path) -> None:
    result = cli("run", pipe, "-d", datadir, "--until-idle")
    assert result.exit_code == 0, result.output


def dump(pipe: Path, datadir: Path) -> dict[str, int]:
    result = cli("table", "dump", pipe, "counts", "-d", datadir)
    assert result.exit_code == 0, result.output
    data: dict[str, int] = json.loads(result.stdout)
    return data


def snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` (SQLite's -wal/-shm sidecars aside) with its content hash."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.endswith(("-wal", "-shm"))
    }


def stores(datadir: Path) -> dict[str, str]:
    return snapshot(datadir / "stores")


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make ``path`` (a tree) read-only media: immutable for root, mode 0o555/0o444 else."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-R", "+i", str(path)], check=True)
        try:
            yield
        finally:
            subprocess.run(["chattr", "-R", "-i", str(path)], check=True)
        return
    entries = [path, *path.rglob("*")]
    modes = {p: p.stat().st_mode for p in entries}
    for p in reversed(entries):
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        yield
    finally:
        for p in entries:
            p.chmod(modes[p])


def one_line_error(result: Any, *fragments: str, code: int = 1) -> str:
    """Assert ``result`` failed with exit ``code`` and one ``error:`` line holding ``fragments``."""
    exit_code = result.exit_code
    stderr: str = result.stderr
    assert exit_code == code, (exit_code, stderr)
    lines = [line for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in stderr, stderr
    for fragment in fragments:
        assert fragment in errors[0], (fragment, errors[0])
    return errors[0]
