"""Group and topic administration on the embedded broker's log (``streamctl group``, ``topic``).

Every change is one write transaction, so an offset reset cannot race a worker
joining the group (:func:`streamctl.transport.local.groups.join` takes the same
lock) and a topic is deleted whole or not at all.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping

from streamctl.transport import batches
from streamctl.transport.base import GroupInfo, GroupMember, TopicPartition
from streamctl.transport.exceptions import GroupNotEmpty, UnknownTopic
from streamctl.transport.local import groups
from streamctl.transport.local.log import BATCH_COLUMNS, log_table, write


def _members(db: sqlite3.Connection, group_id: str) -> tuple[GroupMember, ...]:
    return tuple(
        GroupMember(member, host, "streamctl")
        for member, _, host in (m.partition(" on ") for m in groups.live_members(db, group_id))
    )


def describe_group(db: sqlite3.Connection, group_id: str) -> GroupInfo:
    """The group's state: Stable with its live member, Empty with only offsets, else Dead."""
    members = _members(db, group_id)
    if members:
        return GroupInfo(group_id, "Stable", members)
    known = db.execute(
        "SELECT 1 FROM group_offsets WHERE group_id=? UNION "
        "SELECT 1 FROM group_members WHERE group_id=?",
        (group_id, group_id),
    ).fetchone()
    return GroupInfo(group_id, "Empty" if known else "Dead")


def list_groups(db: sqlite3.Connection) -> list[GroupInfo]:
    """Every group with committed offsets or a member row, sorted by id."""
    ids = db.execute(
        "SELECT group_id FROM group_offsets UNION SELECT group_id FROM group_members"
    ).fetchall()
    return [describe_group(db, group_id) for (group_id,) in sorted(ids)]


def group_offsets(db: sqlite3.Connection, group_id: str) -> dict[TopicPartition, int]:
    """The group's committed offsets by topic name (offsets of deleted topics are gone)."""
    rows = db.execute(
        "SELECT t.name, g.partition, g.offset FROM group_offsets g JOIN topics t ON t.id = g.tid "
        "WHERE g.group_id=?",
        (group_id,),
    ).fetchall()
    return {TopicPartition(name, p): int(off) for name, p, off in rows}


def _topic(db: sqlite3.Connection, name: str, where: str) -> tuple[int, int]:
    row = db.execute("SELECT id, partitions FROM topics WHERE name=?", (name,)).fetchone()
    if row is None:
        raise UnknownTopic(f"topic {name!r} does not exist on the embedded broker at {where}")
    return int(row[0]), int(row[1])


def alter_group_offsets(
    db: sqlite3.Connection, group_id: str, offsets: Mapping[TopicPartition, int], where: str
) -> None:
    """Commit ``offsets`` for a group without a live member, in one transaction."""
    with write(db):
        members = groups.live_members(db, group_id)
        if members:
            raise GroupNotEmpty(
                f"consumer group {group_id!r} has live members ({', '.join(members)}): "
                "stop its workers first"
            )
        rows = []
        for tp, off in offsets.items():
            tid, parts = _topic(db, tp.topic, where)
            if not 0 <= tp.partition < parts:
                raise UnknownTopic(f"topic {tp.topic!r} has no partition {tp.partition}")
            rows.append((group_id, tid, tp.partition, int(off)))
        db.executemany("INSERT OR REPLACE INTO group_offsets VALUES (?,?,?,?)", rows)


def offset_for_time(db: sqlite3.Connection, tid: int, partition: int, timestamp: int) -> int | None:
    """The first offset whose record timestamp is >= ``timestamp`` (ms); None if none is.

    A scan in offset order, as Kafka's time index answers it: timestamps need
    not grow with offsets (producers may set them), so no record is skipped.
    """
    rows = db.execute(f"SELECT {BATCH_COLUMNS} FROM {log_table(tid, partition)} ORDER BY base")
    for row in rows:
        offs, _keys, _vals, stamps, _hdrs = batches.unpack(*row)
        for off, ts in zip(offs, stamps):
            if ts >= timestamp:
                return int(off)
    return None


def offsets_for_times(
    db: sqlite3.Connection, timestamps: Mapping[TopicPartition, int], where: str
) -> dict[TopicPartition, int | None]:
    out: dict[TopicPartition, int | None] = {}
    for tp, ts in timestamps.items():
        tid, parts = _topic(db, tp.topic, where)
        if not 0 <= tp.partition < parts:
            raise UnknownTopic(f"topic {tp.topic!r} has no partition {tp.partition}")
        out[tp] = offset_for_time(db, tid, tp.partition, ts)
    return out


def delete_topics(db: sqlite3.Connection, names: Iterable[str], where: str) -> None:
    """Drop the topics' logs, partitions and the groups' offsets on them, all or none."""
    with write(db):
        for name in names:
            tid, parts = _topic(db, name, where)
            for p in range(parts):
                db.execute(f"DROP TABLE IF EXISTS {log_table(tid, p)}")
            db.execute("DELETE FROM partitions WHERE tid=?", (tid,))
            db.execute("DELETE FROM group_offsets WHERE tid=?", (tid,))
            db.execute("DELETE FROM topics WHERE id=?", (tid,))
