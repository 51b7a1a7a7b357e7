"""The embedded broker's log file: schema, opening it, write transactions, batch rows, compaction.

Layout (``<datadir>/broker.db``, WAL mode so readers never block the writer):

- ``topics``: name, id, partition count, compaction flag.
- ``partitions``: per topic-partition the next offset (the high-water mark).
- ``log_<topic id>_<partition>``: the records of one partition in record batches,
  many records per row (see :mod:`streamctl.transport.batches`), keyed by the
  batch's first offset and indexed by its last.
- ``group_offsets``: committed offsets per consumer group.
- ``group_members``: the one live member per group (the embedded broker does not
  balance a group across processes; that is what Kafka is for).

Several processes may use one data dir at once: writers serialise on SQLite's
write lock (``BEGIN IMMEDIATE``), offsets are assigned inside that transaction.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from streamctl.transport import batches
from streamctl.transport.exceptions import BadDatadir, TransportError

SCHEMA = """
CREATE TABLE IF NOT EXISTS topics(
    id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, partitions INTEGER NOT NULL,
    compacting INTEGER NOT NULL DEFAULT 0, config TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS partitions(
    tid INTEGER NOT NULL, partition INTEGER NOT NULL, next_offset INTEGER NOT NULL DEFAULT 0,
    start_offset INTEGER NOT NULL DEFAULT 0, compacted_to INTEGER NOT NULL DEFAULT 0,
    compacted_live INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY(tid, partition)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_offsets(
    group_id TEXT NOT NULL, tid INTEGER NOT NULL, partition INTEGER NOT NULL,
    offset INTEGER NOT NULL, PRIMARY KEY(group_id, tid, partition)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_members(
    group_id TEXT PRIMARY KEY, pid INTEGER NOT NULL, host TEXT NOT NULL, heartbeat REAL NOT NULL);
"""

#: the on-disk layout's version (``PRAGMA user_version``)
FORMAT = 2
BROKER_FILE = "broker.db"
#: compact a compacted topic's partition once this many records were added since the last time
COMPACT_EVERY = 50_000
#: the columns of a batch row, in :func:`streamctl.transport.batches.unpack`'s order
BATCH_COLUMNS = "base, n, offsets, keys, klens, vals, vlens, ts, headers"


def broker_path(datadir: Path) -> Path:
    """Where the embedded broker keeps its log for a data dir."""
    return Path(datadir) / BROKER_FILE


def log_table(tid: int, partition: int) -> str:
    """The SQLite table holding one partition's records."""
    return f"log_{tid}_{partition}"


def open_log(datadir: Path) -> sqlite3.Connection:
    """Connect to ``datadir``'s broker log, creating it (and the data dir) if need be.

    Raises TransportError, naming the data dir, when it cannot be created, read
    or written, or holds a log of another format or no log at all.
    """
    path = broker_path(datadir)
    try:
        datadir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadDatadir(f"data dir {datadir}: cannot create it ({exc.strerror})") from None
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise BadDatadir(f"data dir {datadir}: {path.name} is not readable and writable")
    try:
        db = sqlite3.connect(path, isolation_level=None, timeout=30.0)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(SCHEMA)
        (version,) = db.execute("PRAGMA user_version").fetchone()
        if version == 0:
            db.execute(f"PRAGMA user_version={FORMAT}")
        elif version != FORMAT:
            raise TransportError(
                f"data dir {datadir}: {path.name} has log format {version}, this "
                f"streamctl reads format {FORMAT}; move it away or point --datadir elsewhere"
            )
    except sqlite3.DatabaseError as exc:
        raise TransportError(
            f"data dir {datadir}: {path.name} is not a usable broker log ({exc}); "
            "move it away or point --datadir elsewhere"
        ) from None
    return db


def create_partition_log(db: sqlite3.Connection, tid: int, partition: int) -> None:
    """Create one partition's row in ``partitions`` and its (empty) log table."""
    db.execute("INSERT INTO partitions(tid, partition) VALUES (?,?)", (tid, partition))
    log = log_table(tid, partition)
    db.execute(
        f"CREATE TABLE {log}(base INTEGER PRIMARY KEY, last INTEGER NOT NULL, "
        "n INTEGER NOT NULL, offsets BLOB, keys BLOB NOT NULL, klens BLOB NOT NULL, "
        "vals BLOB NOT NULL, vlens BLOB NOT NULL, ts BLOB NOT NULL, headers TEXT)"
    )
    db.execute(f"CREATE UNIQUE INDEX {log}_last ON {log}(last)")


def begin(db: sqlite3.Connection) -> None:
    """Open an immediate (write-locking) transaction that the caller commits or rolls back."""
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        raise TransportError(f"embedded broker is locked by another process: {exc}") from None


class write:
    """``with write(db):`` an immediate (write-locking) transaction, rolled back on error."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        begin(self.db)
        return self.db

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.db.execute("COMMIT")
        else:
            self.db.execute("ROLLBACK")


def insert_batch(
    db: sqlite3.Connection,
    log: str,
    base: int,
    last: int,
    offsets: bytes | None,
    keys: Sequence[bytes | None],
    values: Sequence[bytes | None],
    timestamps: Sequence[int],
    headers: Sequence[str | None],
) -> None:
    """Append one record-batch row (offsets ``base .. last``) to the log table ``log``."""
    db.execute(
        f"INSERT INTO {log} VALUES (?,?,?,?,?,?,?,?,?,?)",
        (base, last, len(keys), offsets, *batches.pack(keys, values, timestamps, headers)),
    )


def compact(db: sqlite3.Connection, tid: int, partitions: Iterable[int]) -> int:
    """Drop every record of topic ``tid``'s ``partitions`` that a later record with the same
    key replaces, in one write transaction; returns how many records were dropped.

    Offsets are kept (a batch row then lists them), so positions and committed
    offsets stay valid; a seek into a gap reads on from the next record.
    """
    removed = 0
    with write(db):
        for p in partitions:
            log = log_table(tid, p)
            records: list[tuple[int, bytes | None, bytes | None, int, Any]] = []
            for row in db.execute(f"SELECT {BATCH_COLUMNS} FROM {log} ORDER BY base"):
                records.extend(zip(*batches.unpack(*row)))
            latest = {key: off for off, key, _v, _t, _h in records}
            kept = [r for r in records if latest[r[1]] == r[0]]
            removed += len(records) - len(kept)
            db.execute(
                "UPDATE partitions SET compacted_to=next_offset, compacted_live=? "
                "WHERE tid=? AND partition=?",
                (len(kept), tid, p),
            )
            if len(kept) == len(records):
                continue
            db.execute(f"DELETE FROM {log}")
            for i in range(0, len(kept), batches.ROW_MAX):
                chunk = kept[i : i + batches.ROW_MAX]
                offs = [r[0] for r in chunk]
                insert_batch(
                    db,
                    log,
                    offs[0],
                    offs[-1],
                    batches.offsets_blob(offs),
                    [r[1] for r in chunk],
                    [r[2] for r in chunk],
                    [r[3] for r in chunk],
                    [batches.encode_headers(r[4]) if r[4] else None for r in chunk],
                )
    return removed


def due_for_compaction(db: sqlite3.Connection, tid: int) -> list[int]:
    """The partitions of compacted topic ``tid`` that grew enough to compact again.

    A partition is due once it grew by :data:`COMPACT_EVERY` records and by as
    many as it kept last time: a compaction's full scan is paid off by the
    records since, whatever the number of live keys.
    """
    return [
        p
        for (p,) in db.execute(
            "SELECT partition FROM partitions WHERE tid=? AND "
            "next_offset - compacted_to >= MAX(?, compacted_live)",
            (tid, COMPACT_EVERY),
        )
    ]
