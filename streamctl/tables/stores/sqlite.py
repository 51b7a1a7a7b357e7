"""A store in one SQLite file per table partition, through sqlitedict.

The file is in WAL journal mode, so a reader in another process (the CLI)
sees either the state before a batch or after it, never a torn write. Keys
and values are stored as given (already encoded by the table's codec; never
pickled) and the changelog offset lives in a ``meta`` table of the same file,
written in the same transaction as the data it describes.

sqlitedict opens the file, owns the writing connection (its own thread, fed
by a queue: one queue item per statement), counts rows (``len``) and closes.
Where this module goes around sqlitedict's dict API, and why:

- :meth:`SqliteStore.apply` sends SQL through sqlitedict's connection
  (``conn.execute``, still its queue and its transaction) instead of
  ``d.update(...)`` / ``del d[k]``: ``update`` queues one item per row (its
  ``executemany`` loops), ``del d[k]`` first reads whether the key exists and
  raises KeyError if not, and the offset row must commit in the same
  transaction as the data (a second SqliteDict for ``meta`` would be a second
  connection, so a second transaction). Multi-row ``REPLACE ... VALUES
  (?,?),(?,?)...`` and one commit per batch; ``bench/stores.py`` measures it.
- :meth:`SqliteStore.reset` deletes data and offset in one transaction;
  ``d.clear()`` commits on its own, and a crash between it and the offset's
  deletion would leave an empty store trusted at an old offset.
- :meth:`SqliteStore.items` orders by key, so ``streamctl table dump`` is
  stable; sqlitedict's ``items()`` orders by rowid, which every ``REPLACE``
  renumbers.
- Point reads (:meth:`SqliteStore.get`) do not go through the queue: a second,
  read-only ``sqlite3`` connection in the caller's thread answers them (WAL
  lets it read while the writer writes; it sees every committed batch, since
  ``apply`` commits before it returns). A queue round trip costs a thread
  switch per read, which made a table's first read of each key per batch its
  slowest step.
- Opening first probes the file with a plain ``sqlite3`` connection: a damaged
  file then fails in the caller's thread (as StoreCorrupt, and the table
  rebuilds it) instead of killing sqlitedict's thread.
- A directory where the file belongs, or a file or folder that cannot be
  written, is a StoreError (one line), never StoreCorrupt: the store may be
  fine, so nothing is deleted. Read-only commands do not come here at all:
  they use :func:`streamctl.tables.stores.sqlite_read.open_reader`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlitedict import SqliteDict

from streamctl.tables.exceptions import StoreCorrupt, StoreDirUnusable, StoreError
from streamctl.tables.stores.base import Store
from streamctl.tables.stores.sqlite_read import check_path, open_reader

_HEADER = b"SQLite format 3\x00"
_DATA = "data"

# sqlitedict logs the inner stack of every failed statement (a full disk gives
# three of them) before the caller gets the error: the StoreError raised here
# says it in one line, so its records are not printed by logging's last resort.
logging.getLogger("sqlitedict").addHandler(logging.NullHandler())


def _identity(obj: Any) -> Any:
    return obj


_GET_SQL = f'SELECT value FROM "{_DATA}" WHERE key = ?'
#: ``get_many``: keys per query (under SQLite's default limit of bound parameters)
_MANY = 500
_GET_MANY_SQL = f'SELECT key, value FROM "{_DATA}" WHERE key IN (%s)'


@lru_cache(maxsize=64)
def _upsert_sql(rows: int) -> str:
    return f'REPLACE INTO "{_DATA}" (key, value) VALUES ' + ",".join(["(?,?)"] * rows)


@lru_cache(maxsize=64)
def _delete_sql(rows: int) -> str:
    return f'DELETE FROM "{_DATA}" WHERE key IN (' + ",".join(["?"] * rows) + ")"


class SqliteStore(Store):
    """``sqlite://`` (the default): durable, one ``.sqlite3`` file per table partition."""

    persistent = True
    #: rows per multi-row statement (SQLite allows 32766 parameters; 2 per row).
    chunk_rows = 1000
    #: ``NORMAL`` is crash-safe in WAL mode; sqlitedict's own default is ``OFF``.
    synchronous = "NORMAL"
    journal_mode = "WAL"

    def __init__(self, url: str, path: Path) -> None:
        super().__init__(url, path)
        self._db: SqliteDict | None = None
        self._reader: sqlite3.Connection | None = None
        check_path(self.path)
        self._check_header()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreDirUnusable(
                f"data dir: cannot create {self.path.parent} ({exc.strerror})"
            ) from None
        self._check_writable()
        self._probe()
        try:
            self._db = SqliteDict(
                str(self.path),
                tablename=_DATA,
                flag="c",
                autocommit=False,
                journal_mode=self.journal_mode,
                encode=_identity,
                decode=_identity,
                encode_key=_identity,
                decode_key=_identity,
                outer_stack=False,
            )
            conn = self._db.conn
            conn.execute(f"PRAGMA synchronous={self.synchronous}")
            conn.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER)")
            conn.commit()
            self.persisted_offset()
            self._reader = sqlite3.connect(
                self.path.resolve().as_uri() + "?mode=ro",
                uri=True,
                check_same_thread=False,
                isolation_level=None,
            )
        except (sqlite3.DatabaseError, RuntimeError) as exc:
            self._abandon()
            raise StoreCorrupt(f"cannot read table store {self.path}: {exc}") from exc

    def _check_header(self) -> None:
        if not self.path.exists():
            # A WAL left beside a deleted database would be replayed into the new one.
            self.remove(self.url, self.path)
            return
        with open(self.path, "rb") as f:
            head = f.read(len(_HEADER))
        if head and head != _HEADER:
            raise StoreCorrupt(f"table store {self.path} is not a SQLite database")

    def _check_writable(self) -> None:
        for path in (self.path, self.path.parent):
            if path.exists() and not os.access(path, os.W_OK):
                raise StoreDirUnusable(
                    f"table store {self.path} is read-only ({path} cannot be written); "
                    "read commands still work, a worker needs it writable"
                )

    def _probe(self) -> None:
        # Read the schema with a plain connection first: a damaged file fails here,
        # in this thread, instead of killing sqlitedict's worker thread.
        try:
            conn = sqlite3.connect(self.path)
            try:
                conn.execute(f"PRAGMA journal_mode={self.journal_mode}")
                conn.execute("SELECT name FROM sqlite_master").fetchall()
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            if "disk is full" in str(exc):
                raise StoreError(_disk_full(self.path, exc)) from None
            raise StoreCorrupt(f"cannot read table store {self.path}: {exc}") from exc

    def _abandon(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()
        db, self._db = self._db, None
        if db is not None and db.conn is not None:
            with contextlib.suppress(Exception):  # the file is already known to be bad
                db.close(force=True)

    @property
    def _dict(self) -> Any:
        if self._db is None or self._db.conn is None:
            raise StoreError(f"table store {self.path} is closed")
        return self._db

    @property
    def _conn(self) -> Any:
        return self._dict.conn

    def get(self, key: bytes) -> bytes | None:
        reader = self._reader
        if reader is None:
            raise StoreError(f"table store {self.path} is closed")
        row = reader.execute(_GET_SQL, (key,)).fetchone()
        return None if row is None else row[0]

    def get_many(self, keys: list[bytes]) -> dict[bytes, bytes]:
        reader = self._reader
        if reader is None:
            raise StoreError(f"table store {self.path} is closed")
        out: dict[bytes, bytes] = {}
        for i in range(0, len(keys), _MANY):
            chunk = keys[i : i + _MANY]
            sql = _GET_MANY_SQL % ",".join("?" * len(chunk))
            out.update(reader.execute(sql, chunk).fetchall())
        return out

    def apply(self, writes: Mapping[bytes, bytes | None], offset: int | None) -> None:
        conn = self._conn
        puts: list[bytes] = []
        dels: list[bytes] = []
        for key, value in writes.items():
            if value is None:
                dels.append(key)
            else:
                puts.append(key)
                puts.append(value)
        n = self.chunk_rows
        try:
            # The offset goes first: sqlitedict runs statements on its own thread and
            # reports a failure at the next call, so statements queued after a failed one
            # still run, and SQLite may have rolled the whole transaction back on
            # SQLITE_FULL, leaving them to autocommit. Data written that way is harmless
            # (replaying the changelog from the old offset rewrites it); an offset written
            # without its data would lose that data for good.
            if offset is not None:
                conn.execute("REPLACE INTO meta (name, value) VALUES ('offset', ?)", (offset,))
            for i in range(0, len(puts), 2 * n):
                chunk = puts[i : i + 2 * n]
                conn.execute(_upsert_sql(len(chunk) // 2), chunk)
            for i in range(0, len(dels), n):
                chunk = dels[i : i + n]
                conn.execute(_delete_sql(len(chunk)), chunk)
            conn.select_one("SELECT 1")  # raises a failure of the statements above, if any
            conn.commit()
        except sqlite3.Error as exc:
            try:
                conn.execute("ROLLBACK")
                conn.commit()
            except sqlite3.Error:
                pass
            if "disk is full" in str(exc):
                raise StoreError(_disk_full(self.path, exc)) from None
            raise StoreError(f"writing table store {self.path} failed: {exc}") from exc

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        # the read-only connection, not sqlitedict's worker thread (one queue hop per row):
        # it sees every committed batch, and apply() commits before it returns
        reader = self._reader
        if reader is None:
            raise StoreError(f"table store {self.path} is closed")
        cursor = reader.execute(f'SELECT key, value FROM "{_DATA}" ORDER BY key')
        while rows := cursor.fetchmany(1000):
            yield from rows

    def persisted_offset(self) -> int | None:
        row = self._conn.select_one("SELECT value FROM meta WHERE name = 'offset'")
        return None if row is None else int(row[0])

    def reset(self) -> None:
        conn = self._conn
        conn.execute(f'DELETE FROM "{_DATA}"')
        conn.execute("DELETE FROM meta")
        conn.commit()

    def close(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()
        db, self._db = self._db, None
        if db is not None:
            db.close()

    def __len__(self) -> int:
        return len(self._dict)

    @classmethod
    def open_read_only(cls, url: str, path: Path) -> Store:
        return open_reader(url, path)

    @classmethod
    def remove(cls, url: str, path: Path) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            try:
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"cannot remove table store {path}{suffix}: {exc.strerror}"
                ) from None


def _disk_full(path: Path, exc: BaseException) -> str:
    return (
        f"table store {path}: the disk is full ({exc}); the batch was not committed "
        "and nothing committed before it is lost: free some space and run the command again"
    )
