"""Consumer groups on the embedded broker: the one live member per group, committed offsets.

The embedded broker does not balance a group across processes (that is what
Kafka is for): a group has at most one live member, recorded in
``group_members`` with its process id and host. A member whose process is gone
(it crashed) no longer counts, so a restarted worker takes its group back.

A process id alone does not say the member is alive: after a SIGKILL another
process may get the same id (in a container, PID 1 or a low PID is reused at
once). A member is therefore recorded with its process start time (Linux:
``/proc/<pid>/stat``, in clock ticks since boot) and counts only while a process
with that id *and* that start time runs. Where the start time cannot be read,
the id alone decides, as before.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from streamctl.transport.exceptions import TransportError
from streamctl.transport.local.log import write


class GroupMetadata(NamedTuple):
    """A consumer's group identity, for a transactional producer of the same broker file."""

    group_id: str
    path: Path


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this host (one we may not signal counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start_time(pid: int) -> str | None:
    """When process ``pid`` started (an opaque token), or None if it cannot be told."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    # field 22 (starttime), counted after the parenthesised command name
    fields = stat[stat.rfind(b")") + 2 :].split()
    return fields[19].decode() if len(fields) > 19 else None


def member_alive(pid: int, started: str | None) -> bool:
    """Whether the member recorded as (``pid``, ``started``) still runs on this host."""
    if not pid_alive(pid):
        return False
    if started is None:
        return True
    now = start_time(pid)
    return now is None or now == started


def me() -> tuple[int, str]:
    """This process as a group member: (pid, host name)."""
    return os.getpid(), os.uname().nodename


def live_members(db: sqlite3.Connection, group_id: str) -> list[str]:
    """The group's live member as ``"pid 123 on host"``, if its process still runs."""
    try:
        rows = db.execute(
            "SELECT pid, host, started FROM group_members WHERE group_id=?", (group_id,)
        ).fetchall()
    except sqlite3.OperationalError:  # a format-2 log opened read-only: no start times
        rows = db.execute(
            "SELECT pid, host, NULL FROM group_members WHERE group_id=?", (group_id,)
        ).fetchall()
    here = os.uname().nodename
    return [
        f"pid {pid} on {host}"
        for pid, host, started in rows
        if host != here or member_alive(pid, started)
    ]


def join(db: sqlite3.Connection, group_id: str, datadir: Path) -> None:
    """Become the group's only member; TransportError if a live process already is."""
    with write(db):
        row = db.execute(
            "SELECT pid, host, started FROM group_members WHERE group_id=?", (group_id,)
        ).fetchone()
        pid, host = me()
        started = start_time(pid)
        if (
            row is not None
            and tuple(row) != (pid, host, started)
            and row[1] == host
            and member_alive(row[0], row[2])
        ):
            raise TransportError(
                f"consumer group {group_id!r} is already consumed by process {row[0]} "
                f"on the embedded broker at {datadir}; the embedded broker "
                "runs one worker per group (use Kafka to scale out)"
            )
        db.execute(
            "INSERT OR REPLACE INTO group_members(group_id, pid, host, heartbeat, started) "
            "VALUES (?,?,?,?,?)",
            (group_id, pid, host, time.time(), started),
        )


def leave(db: sqlite3.Connection, group_id: str) -> None:
    """Stop being the group's member (best effort: a locked or closed log is ignored)."""
    try:
        with write(db):
            db.execute(
                "DELETE FROM group_members WHERE group_id=? AND pid=?", (group_id, os.getpid())
            )
    except (sqlite3.Error, TransportError):
        pass


def commit_offsets(
    db: sqlite3.Connection,
    group_id: str,
    offsets: Iterable[tuple[int, int, int]],
    *,
    heartbeat: bool,
) -> None:
    """Commit ``(topic id, partition, next offset)`` triples for the group in one
    transaction; with ``heartbeat``, also note that its member is alive now."""
    with write(db):
        write_offsets(db, group_id, offsets)
        if heartbeat:
            db.execute(
                "UPDATE group_members SET heartbeat=? WHERE group_id=?", (time.time(), group_id)
            )


def write_offsets(
    db: sqlite3.Connection, group_id: str, offsets: Iterable[tuple[int, int, int]]
) -> None:
    """Write ``(topic id, partition, next offset)`` triples for the group inside the
    caller's write transaction (a transactional producer's, or :func:`commit_offsets`)."""
    db.executemany(
        "INSERT OR REPLACE INTO group_offsets VALUES (?,?,?,?)",
        [(group_id, tid, partition, off) for tid, partition, off in offsets],
    )


def committed_offset(db: sqlite3.Connection, group_id: str, tid: int, partition: int) -> int | None:
    """The offset the group committed for topic ``tid``'s ``partition``; None if none."""
    row = db.execute(
        "SELECT offset FROM group_offsets WHERE group_id=? AND tid=? AND partition=?",
        (group_id, tid, partition),
    ).fetchone()
    return None if row is None else int(row[0])
