"""Bounds on what a pipeline file may ask of the loader: size, nesting, aliases, file references."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from streamctl.transport.base import MAX_PARTITIONS

#: the largest pipeline or model file read, in bytes
MAX_FILE_BYTES = 1024 * 1024
#: the deepest nesting of mappings and lists in a YAML file
MAX_DEPTH = 64
#: the largest counts a pipeline may ask for (a topic of 10**9 partitions would take the
#: embedded broker hours and gigabytes to create)
MOST = {"partitions": MAX_PARTITIONS, "topic_partitions": MAX_PARTITIONS, "concurrency": 1_000}
#: the most topics, tables, agents or models one pipeline file may declare
MAX_ENTRIES = 1_000
#: seconds a ``streamctl test`` run may take before it is stopped and fails (a pipeline
#: that never goes idle, such as an agent writing to the topic it reads, runs forever)
TEST_TIMEOUT = 30.0
#: the most YAML nodes a file may hold once aliases are expanded (a billion-laughs guard)
MAX_NODES = 100_000


def nesting_depth(obj: object) -> int:
    """How deeply mappings and lists nest in ``obj`` (a scalar is 0), counted without
    recursion, so a value too deep for Python's stack is measured, not a RecursionError."""
    deepest = 0
    todo: list[tuple[object, int]] = [(obj, 0)]
    while todo:
        item, depth = todo.pop()
        if isinstance(item, dict):
            children: list[object] = list(item.values())
        elif isinstance(item, (list, tuple)):
            children = list(item)
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        todo.extend((c, depth) for c in children)
    return deepest


class FileRefused(Exception):
    """A file reference that may not be read; ``message`` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def read_bounded(path: Path) -> str:
    """The text of ``path``: a regular UTF-8 file of at most MAX_FILE_BYTES, else FileRefused."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise FileRefused("no such file") from None
    except OSError as exc:
        raise FileRefused(f"cannot read it: {exc.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):  # before fdopen, which refuses a folder
        os.close(fd)
        raise FileRefused("not a regular file")
    with os.fdopen(fd, "rb") as f:
        data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise FileRefused(f"larger than {MAX_FILE_BYTES:,} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileRefused(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def inside(base: Path, ref: str) -> Path:
    """``ref`` resolved against folder ``base``; FileRefused if it leaves ``base``'s tree."""
    root = base.resolve()
    target = (root / ref).resolve()
    if not target.is_relative_to(root):
        raise FileRefused(f"outside the pipeline's folder {str(root)!r}")
    return target
