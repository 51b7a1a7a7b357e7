"""Integrity of the embedded broker's log: batch checksums, damage and full-disk errors."""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from streamctl.transport import batches
from streamctl.transport.exceptions import TransportError

#: one batch row unpacked: offsets, keys, values, timestamps, headers per record
Batch = tuple[
    list[int],
    list[bytes | None],
    list[bytes | None],
    list[int],
    list[tuple[tuple[str, bytes], ...]],
]


class DiskFull(TransportError):
    """The disk holding the data dir is full: the write was rolled back, nothing is lost."""


def disk_full(where: Path | str, exc: BaseException) -> str:
    """The one-line message for SQLite's ``database or disk is full`` at ``where``."""
    return (
        f"{where}: the disk is full ({exc}); this write was rolled back and nothing "
        "committed before it is lost: free some space and run the command again "
        "(do not delete broker.db or the table stores: they hold the data)"
    )


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite's SQLITE_FULL (``database or disk is full``)."""
    return isinstance(exc, sqlite3.OperationalError) and "disk is full" in str(exc)


def where(db: sqlite3.Connection) -> str:
    """The file ``db`` is connected to (for messages)."""
    for _seq, name, file in db.execute("PRAGMA database_list"):
        if name == "main" and file:
            return str(file)
    return "the embedded broker's log"


def checksum(
    base: int, last: int, n: int, offsets: bytes | None, packed: Sequence[bytes | str | None]
) -> int:
    """CRC-32 of a batch row: its offsets, record count and packed columns."""
    crc = zlib.crc32(b"%d:%d:%d:" % (base, last, n))
    crc = zlib.crc32(offsets or b"", crc)
    for column in packed:
        data = column.encode() if isinstance(column, str) else column or b""
        crc = zlib.crc32(b"%d:" % len(data), crc)
        crc = zlib.crc32(data, crc)
    return crc


class LogDamaged(TransportError):
    """A stored record batch failed its checksum or could not be read."""


def read_batch(
    db: sqlite3.Connection, log: str, position: int, topic: str, partition: int
) -> Batch | None:
    """The batch row of ``log`` holding ``position`` (or the first after it), unpacked
    and checked; None when no row does. Raises LogDamaged naming topic[partition]@offset."""
    where = f"topic {topic!r} partition {partition}"
    try:
        row = db.execute(
            f"SELECT * FROM {log} WHERE last >= ? ORDER BY last LIMIT 1", (position,)
        ).fetchone()
    except sqlite3.DatabaseError as exc:
        raise LogDamaged(_damaged(db, f"{topic}[{partition}]@{position}", str(exc))) from None
    if row is None:
        return None
    return verified(db, row, topic, partition, where)


def verified(
    db: sqlite3.Connection, row: Sequence[Any], topic: str, partition: int, where: str
) -> Batch:
    base, last, n, offsets, *packed = row[:10]
    crc = row[10] if len(row) > 10 else None
    at = f"{topic}[{partition}]@{base}"
    if crc is not None and checksum(base, last, n, offsets, packed) != crc:
        raise LogDamaged(
            _damaged(db, at, f"record batch of offsets {base}..{last} fails its checksum")
        )
    try:
        return batches.unpack(base, n, offsets, *packed)
    except (ValueError, TypeError, UnicodeError) as exc:
        raise LogDamaged(_damaged(db, at, f"record batch cannot be unpacked ({exc})")) from None


def _damaged(db: sqlite3.Connection, at: str, what: str) -> str:
    return (
        f"{at}: the embedded broker's log {where(db)} is damaged: {what}; "
        "nothing was read past it: restore broker.db from a backup (streamctl "
        "never replays damaged records)"
    )
