"""Reading a ``sqlite://`` store file without writing it (what read-only commands use).

The file is opened with ``mode=ro`` (SQLite then creates no database and writes
no page), or ``immutable=1`` on read-only media, where SQLite could not even
create the WAL's shared-memory file (and nobody can write the file meanwhile).
A missing file reads as an empty store and is not created.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Mapping
from pathlib import Path

from streamctl.tables.exceptions import StoreCorrupt, StoreDirUnusable, StoreError
from streamctl.tables.stores.base import Store
from streamctl.tables.stores.memory import MemoryStore

_HEADER = b"SQLite format 3\x00"
_DATA = "data"


def check_path(path: Path) -> None:
    """StoreError when something other than a store file sits where one belongs."""
    if path.is_dir():
        raise StoreDirUnusable(
            f"table store {path} is a directory where a store file belongs; "
            "move it away (streamctl never deletes it) and run the command again"
        )


def open_reader(url: str, path: Path) -> Store:
    """The store at ``path`` opened read-only (an empty one if there is no file)."""
    path = Path(path)
    check_path(path)
    if not path.exists():
        return MemoryStore(url, path)
    return SqliteReader(url, path)


class SqliteReader(Store):
    """One ``sqlite://`` store file, read-only; ``apply``/``reset`` raise StoreError."""

    persistent = True

    def __init__(self, url: str, path: Path) -> None:
        super().__init__(url, path)
        try:
            with open(self.path, "rb") as f:
                head = f.read(len(_HEADER))
        except OSError as exc:
            raise StoreError(f"cannot read table store {self.path}: {exc.strerror}") from None
        if head and head != _HEADER:
            raise StoreCorrupt(f"table store {self.path} is not a SQLite database")
        writable = os.access(self.path.parent, os.W_OK) and os.access(self.path, os.W_OK)
        uri = self.path.resolve().as_uri() + ("?mode=ro" if writable else "?immutable=1")
        try:
            self._db: sqlite3.Connection | None = sqlite3.connect(
                uri, uri=True, isolation_level=None
            )
            tables = {
                name
                for (name,) in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        except sqlite3.DatabaseError as exc:
            raise StoreCorrupt(f"cannot read table store {self.path}: {exc}") from None
        self._has_data = _DATA in tables
        self._has_meta = "meta" in tables

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise StoreError(f"table store {self.path} is closed")
        return self._db

    def _query(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple[bytes, bytes]]:
        try:
            return self._conn().execute(sql, args).fetchall()
        except sqlite3.DatabaseError as exc:
            raise StoreCorrupt(f"cannot read table store {self.path}: {exc}") from None

    def get(self, key: bytes) -> bytes | None:
        if not self._has_data:
            return None
        rows = self._query(f'SELECT value FROM "{_DATA}" WHERE key = ?', (key,))
        return rows[0][0] if rows else None

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        if self._has_data:
            yield from self._query(f'SELECT key, value FROM "{_DATA}" ORDER BY key')

    def persisted_offset(self) -> int | None:
        if not self._has_meta:
            return None
        rows = self._query("SELECT value FROM meta WHERE name = 'offset'")
        return int(rows[0][0]) if rows else None

    def apply(self, writes: Mapping[bytes, bytes | None], offset: int | None) -> None:
        raise StoreError(f"table store {self.path} is open read-only")

    def reset(self) -> None:
        raise StoreError(f"table store {self.path} is open read-only")

    def close(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            db.close()
