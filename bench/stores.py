"""Measure table store write throughput (writes/s) on this machine.

Run: ``PYTHONPATH=$PWD python bench/stores.py [--rows N] [--batch B]``

Compares naive sqlitedict use with the batched ``Store.apply`` the tables use,
one knob at a time, so each change to the sqlite store shows its own effect.
Each row is a fresh file in a temporary directory; keys are distinct, values
are 64 bytes.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlitedict import SqliteDict

from streamctl.tables.stores.memory import MemoryStore
from streamctl.tables.stores.sqlite import SqliteStore


def _identity(x):
    return x


def _batches(rows: int, batch: int) -> list[dict[bytes, bytes]]:
    value = b"v" * 64
    keys = [f"key-{i:09d}".encode() for i in range(rows)]
    return [{k: value for k in keys[i : i + batch]} for i in range(0, rows, batch)]


def _sqlitedict(path: Path, **kw) -> SqliteDict:
    return SqliteDict(
        str(path), tablename="data", encode=_identity, decode=_identity, autocommit=False, **kw
    )


def naive_commit_each(path: Path, batches, **kw) -> None:
    d = _sqlitedict(path, **kw)
    for b in batches:
        for k, v in b.items():
            d[k] = v
            d.commit()
    d.close()


def naive_commit_batch(path: Path, batches, **kw) -> None:
    d = _sqlitedict(path, **kw)
    for b in batches:
        for k, v in b.items():
            d[k] = v
        d.commit()
    d.close()


def update_commit_batch(path: Path, batches, **kw) -> None:
    d = _sqlitedict(path, **kw)
    for b in batches:
        d.update(b)  # sqlitedict's executemany: still one queue item per row
        d.commit()
    d.close()


def store_apply(cls: type, **attrs) -> Callable[[Path, list], None]:
    sub = type(cls.__name__, (cls,), attrs)

    def run(path: Path, batches) -> None:
        s = sub("bench://", path)
        for offset, b in enumerate(batches):
            s.apply(b, offset)
        s.close()

    return run


CASES: list[tuple[str, Callable, dict, float]] = [
    # (label, function, sqlitedict kwargs, fraction of rows to use)
    ("(i) sqlitedict d[k]=v + commit per key, defaults", naive_commit_each, {}, 0.05),
    ("    sqlitedict d[k]=v, commit per batch, defaults", naive_commit_batch, {}, 1),
    ("    ... + outer_stack=False", naive_commit_batch, {"outer_stack": False}, 1),
    (
        "    ... + journal_mode=WAL",
        naive_commit_batch,
        {"outer_stack": False, "journal_mode": "WAL"},
        1,
    ),
    (
        "    sqlitedict.update(batch) (executemany), WAL",
        update_commit_batch,
        {"outer_stack": False, "journal_mode": "WAL"},
        1,
    ),
    ("(ii) SqliteStore.apply, 1 row/statement", store_apply(SqliteStore, chunk_rows=1), {}, 1),
    ("     SqliteStore.apply, 100 rows/statement", store_apply(SqliteStore, chunk_rows=100), {}, 1),
    ("     SqliteStore.apply, 1000 rows/statement (default)", store_apply(SqliteStore), {}, 1),
    (
        "     ... with synchronous=OFF (sqlitedict's default)",
        store_apply(SqliteStore, synchronous="OFF"),
        {},
        1,
    ),
    ("     MemoryStore.apply (upper bound)", store_apply(MemoryStore), {}, 1),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000, help="writes per batch/commit")
    args = parser.parse_args()
    print(f"rows={args.rows} batch={args.batch} value=64B")
    with tempfile.TemporaryDirectory() as tmp:
        for i, (label, fn, kw, frac) in enumerate(CASES):
            rows = max(args.batch, int(args.rows * frac))
            batches = _batches(rows, args.batch)
            path = Path(tmp) / f"case{i}.sqlite3"
            start = time.perf_counter()
            fn(path, batches, **kw)
            elapsed = time.perf_counter() - start
            print(f"{label:<56} {rows / elapsed:>12,.0f} writes/s  ({rows} rows)")


if __name__ == "__main__":
    main()
