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

Each batch row carries a CRC-32 (``zlib.crc32``) of its offsets and packed columns,
checked whenever the row is read (:func:`~streamctl.transport.local.integrity.read_batch`), as Kafka's record batches
carry a CRC32C: SQLite itself checksums nothing, so a damaged page would otherwise
be replayed as garbage. zlib's CRC-32 rather than Kafka's CRC32C because the
checksum never leaves this file (no wire format to match) and zlib needs no
dependency. Rows written before format 3 have no checksum (NULL) and are read unchecked.

Readers never write: :func:`open_log` with ``read_only`` opens an existing log
without creating, migrating or locking anything (``mode=ro``; ``immutable`` on
read-only media, where SQLite could not create the WAL's shared-memory file).
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
from streamctl.transport.local.integrity import (
    DiskFull,
    LogDamaged,
    checksum,
    disk_full,
    is_disk_full,
    verified,
    where,
)

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
    group_id TEXT PRIMARY KEY, pid INTEGER NOT NULL, host TEXT NOT NULL, heartbeat REAL NOT NULL,
    started TEXT);
"""

#: the on-disk layout's version (``PRAGMA user_version``); 3 added batch checksums
#: (``crc``) and members' process start times (``group_members.started``)
FORMAT = 3
#: older formats :func:`open_log` migrates in place
MIGRATES_FROM = (2,)
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


def open_log(datadir: Path, *, read_only: bool = False) -> sqlite3.Connection | None:
    """Connect to ``datadir``'s broker log.

    Writers (``read_only=False``) create the data dir and the log if need be and
    migrate an older format in place. Readers create nothing: they get None when
    there is no log yet, and a connection that cannot write otherwise.

    Raises TransportError, naming the data dir, when it cannot be created, read
    or written, or holds a log of another format.
    """
    path = broker_path(datadir)
    if read_only:
        return _open_reader(datadir, path)
    try:
        datadir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadDatadir(f"data dir {datadir}: cannot create it ({exc.strerror})") from None
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise BadDatadir(
            f"data dir {datadir}: {path.name} is read-only; read commands still work, "
            "writing needs a writable data dir"
        )
    if not os.access(datadir, os.W_OK):
        raise BadDatadir(
            f"data dir {datadir} is read-only; read commands still work, "
            "writing needs a writable data dir"
        )
    try:
        db = sqlite3.connect(path, isolation_level=None, timeout=30.0)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        (version,) = db.execute("PRAGMA user_version").fetchone()
        if version in MIGRATES_FROM:
            _migrate(db)
        _check_format(datadir, path, version, (0, FORMAT, *MIGRATES_FROM))
        db.executescript(SCHEMA)
        if version == 0:
            db.execute(f"PRAGMA user_version={FORMAT}")
    except sqlite3.DatabaseError as exc:
        if is_disk_full(exc):
            raise DiskFull(disk_full(f"data dir {datadir}", exc)) from None
        raise TransportError(
            f"data dir {datadir}: {path.name} is not a usable broker log ({exc}); "
            "restore it from a backup or point --datadir elsewhere"
        ) from None
    return db


def _check_format(datadir: Path, path: Path, version: int, readable: tuple[int, ...]) -> None:
    if version not in readable:
        raise TransportError(
            f"data dir {datadir}: {path.name} has log format {version}, this "
            f"streamctl reads format {FORMAT}; use the streamctl that wrote it, "
            "or point --datadir elsewhere"
        )


def _open_reader(datadir: Path, path: Path) -> sqlite3.Connection | None:
    if not path.exists():
        return None
    if path.is_dir():
        raise BadDatadir(f"data dir {datadir}: {path.name} is a directory, not a broker log")
    uri = path.resolve().as_uri()
    # on read-only media SQLite cannot create the WAL's -shm file: nobody can write
    # there either, so the file is immutable while we read it
    writable = os.access(datadir, os.W_OK) and os.access(path, os.W_OK)
    uri += "?mode=ro" if writable else "?immutable=1"
    try:
        db = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30.0)
        (version,) = db.execute("PRAGMA user_version").fetchone()
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise TransportError(
            f"data dir {datadir}: {path.name} is not a usable broker log ({exc}); "
            "restore it from a backup or point --datadir elsewhere"
        ) from None
    _check_format(datadir, path, version, (0, FORMAT, *MIGRATES_FROM))
    if version == 0:
        return None  # created but never initialised: no topics yet
    return db


def _migrate(db: sqlite3.Connection) -> None:
    """Format 2 -> 3, in one write transaction: a ``crc`` column on every log table
    (NULL for the rows already there: read unchecked) and ``group_members.started``."""
    with write(db):
        (version,) = db.execute("PRAGMA user_version").fetchone()
        if version == FORMAT:  # another process migrated first
            return
        logs = [
            name
            for (name,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'log\\_%' ESCAPE '\\'"
            )
        ]
        for name in logs:
            db.execute(f"ALTER TABLE {name} ADD COLUMN crc INTEGER")
        members = [row[1] for row in db.execute("PRAGMA table_info(group_members)")]
        if members and "started" not in members:
            db.execute("ALTER TABLE group_members ADD COLUMN started TEXT")
        db.execute(f"PRAGMA user_version={FORMAT}")


def create_partition_log(db: sqlite3.Connection, tid: int, partition: int) -> None:
    """Create one partition's row in ``partitions`` and its (empty) log table."""
    db.execute("INSERT INTO partitions(tid, partition) VALUES (?,?)", (tid, partition))
    log = log_table(tid, partition)
    db.execute(
        f"CREATE TABLE {log}(base INTEGER PRIMARY KEY, last INTEGER NOT NULL, "
        "n INTEGER NOT NULL, offsets BLOB, keys BLOB NOT NULL, klens BLOB NOT NULL, "
        "vals BLOB NOT NULL, vlens BLOB NOT NULL, ts BLOB NOT NULL, headers TEXT, crc INTEGER)"
    )
    db.execute(f"CREATE UNIQUE INDEX {log}_last ON {log}(last)")


def begin(db: sqlite3.Connection) -> None:
    """Open an immediate (write-locking) transaction that the caller commits or rolls back."""
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if "readonly" in str(exc):
            raise TransportError(
                f"the embedded broker's log is read-only here ({exc}); "
                "writing needs a writable data dir"
            ) from None
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
            try:
                self.db.execute("COMMIT")
                return
            except sqlite3.OperationalError as failed:
                exc = failed
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")
        failure = translated(self.db, exc)
        if failure is not None:
            raise failure from None
        if exc_type is None and exc is not None:
            raise exc


def translated(db: sqlite3.Connection, exc: BaseException | None) -> TransportError | None:
    """The one-line error for a failed write of ``db``: DiskFull for SQLite's
    ``database or disk is full``, LogDamaged for damaged pages; None for other errors."""
    if exc is not None and is_disk_full(exc):
        return DiskFull(disk_full(where(db), exc))
    if type(exc) is sqlite3.DatabaseError:  # "database disk image is malformed", ...
        return LogDamaged(
            f"the embedded broker's log {where(db)} is damaged ({exc}); "
            "nothing was written: restore broker.db from a backup"
        )
    return None


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
    n = len(keys)
    packed = batches.pack(keys, values, timestamps, headers)
    db.execute(
        f"INSERT INTO {log} VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (base, last, n, offsets, *packed, checksum(base, last, n, offsets, packed)),
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
            topic = _topic_name(db, tid)
            for row in db.execute(f"SELECT * FROM {log} ORDER BY base").fetchall():
                records.extend(zip(*verified(db, row, topic, p, topic)))
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


def _topic_name(db: sqlite3.Connection, tid: int) -> str:
    row = db.execute("SELECT name FROM topics WHERE id=?", (tid,)).fetchone()
    return str(row[0]) if row else f"topic id {tid}"


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
