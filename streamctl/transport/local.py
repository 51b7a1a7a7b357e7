"""The embedded broker: a durable, partitioned log in one SQLite file under the data dir.

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

import json
import os
import sqlite3
import time
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from streamctl.exceptions import ConfigurationError
from streamctl.transport import batches
from streamctl.transport.base import (
    Consumer,
    Headers,
    Message,
    Producer,
    RebalanceListener,
    RecordMetadata,
    TopicPartition,
    TopicSpec,
    Transport,
)
from streamctl.transport.exceptions import TransportError, UnknownTopic
from streamctl.transport.partitioner import partition_for

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


def broker_path(datadir: Path) -> Path:
    """Where the embedded broker keeps its log for a data dir."""
    return Path(datadir) / BROKER_FILE


def _log(tid: int, partition: int) -> str:
    """The SQLite table holding one partition's records."""
    return f"log_{tid}_{partition}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LocalTransport(Transport):
    """``local://``: the embedded broker under ``datadir``."""

    scheme = "local"

    def __init__(self, url: str = "local://", *, datadir: Path, **settings: Any) -> None:
        self.url = url
        self.datadir = Path(datadir)
        self.path = broker_path(self.datadir)
        self.settings = settings
        self._topics: dict[str, tuple[int, int]] = {}  # name -> (id, partitions)
        self._compacted: set[str] = set()
        self.db = self._open()

    # -- connection ----------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        try:
            self.datadir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TransportError(
                f"data dir {self.datadir}: cannot create it ({exc.strerror})"
            ) from None
        if self.path.exists() and not os.access(self.path, os.R_OK | os.W_OK):
            raise TransportError(
                f"data dir {self.datadir}: {self.path.name} is not readable and writable"
            )
        try:
            db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(SCHEMA)
            (version,) = db.execute("PRAGMA user_version").fetchone()
            if version == 0:
                db.execute(f"PRAGMA user_version={FORMAT}")
            elif version != FORMAT:
                raise TransportError(
                    f"data dir {self.datadir}: {self.path.name} has log format {version}, this "
                    f"streamctl reads format {FORMAT}; move it away or point --datadir elsewhere"
                )
        except sqlite3.DatabaseError as exc:
            raise TransportError(
                f"data dir {self.datadir}: {self.path.name} is not a usable broker log ({exc}); "
                "move it away or point --datadir elsewhere"
            ) from None
        return db

    def close(self) -> None:
        try:
            self.db.close()
        except sqlite3.Error:
            pass

    # -- admin --------------------------------------------------------------------
    def create_topics(self, specs: Iterable[TopicSpec]) -> None:
        specs = list(specs)
        with _write(self.db):
            for spec in specs:
                if spec.partitions < 1:
                    raise TransportError(f"topic {spec.name!r}: partitions must be >= 1")
                row = self.db.execute("SELECT id FROM topics WHERE name=?", (spec.name,)).fetchone()
                if row is not None:
                    continue
                cur = self.db.execute(
                    "INSERT INTO topics(name, partitions, compacting, config) VALUES (?,?,?,?)",
                    (
                        spec.name,
                        spec.partitions,
                        int(spec.compacting),
                        json.dumps(dict(spec.config)),
                    ),
                )
                tid = cur.lastrowid
                assert tid is not None
                for p in range(spec.partitions):
                    self.db.execute("INSERT INTO partitions(tid, partition) VALUES (?,?)", (tid, p))
                    log = _log(tid, p)
                    self.db.execute(
                        f"CREATE TABLE {log}(base INTEGER PRIMARY KEY, last INTEGER NOT NULL, "
                        "n INTEGER NOT NULL, offsets BLOB, keys BLOB NOT NULL, klens BLOB NOT NULL, "
                        "vals BLOB NOT NULL, vlens BLOB NOT NULL, ts BLOB NOT NULL, headers TEXT)"
                    )
                    self.db.execute(f"CREATE UNIQUE INDEX {log}_last ON {log}(last)")

    def list_topics(self) -> dict[str, TopicSpec]:
        rows = self.db.execute("SELECT name, partitions, compacting, config FROM topics").fetchall()
        return {
            name: TopicSpec(name, parts, bool(comp), json.loads(conf))
            for name, parts, comp, conf in rows
        }

    def topic_info(self, name: str) -> tuple[int, int]:
        """(topic id, partition count); raises UnknownTopic."""
        info = self._topics.get(name)
        if info is None:
            row = self.db.execute(
                "SELECT id, partitions, compacting FROM topics WHERE name=?", (name,)
            ).fetchone()
            if row is None:
                raise UnknownTopic(
                    f"topic {name!r} does not exist on the embedded broker at {self.datadir}"
                )
            info = self._topics[name] = (row[0], row[1])
            if row[2]:
                self._compacted.add(name)
        return info

    def compact(self, topic: str, partitions: Iterable[int] | None = None) -> int:
        """Drop every record of a compacted topic that a later record with the same key
        replaces (in ``partitions``, default all); returns how many were dropped."""
        tid, parts = self.topic_info(topic)
        removed = 0
        with _write(self.db) as db:
            for p in range(parts) if partitions is None else partitions:
                log = _log(tid, p)
                records: list[tuple[int, bytes | None, bytes | None, int, Any]] = []
                for row in db.execute(f"SELECT {_BATCH_COLUMNS} FROM {log} ORDER BY base"):
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
                    _insert_batch(
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

    def group_members(self, group_id: str) -> list[str] | None:
        """The group's live member, if its process still runs (a crashed one does not count)."""
        rows = self.db.execute(
            "SELECT pid, host FROM group_members WHERE group_id=?", (group_id,)
        ).fetchall()
        here = os.uname().nodename
        return [f"pid {pid} on {host}" for pid, host in rows if host != here or _pid_alive(pid)]

    def producer(self, *, transactional_id: str | None = None) -> LocalProducer:
        if transactional_id is not None:
            raise ConfigurationError(
                "processing_guarantee exactly_once needs kafka:// (Kafka transactions); "
                "the embedded broker (local://) is at-least-once"
            )
        return LocalProducer(self)

    def consumer(self, group_id: str | None) -> LocalConsumer:
        return LocalConsumer(self, group_id)


_BATCH_COLUMNS = "base, n, offsets, keys, klens, vals, vlens, ts, headers"


def _insert_batch(
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
    db.execute(
        f"INSERT INTO {log} VALUES (?,?,?,?,?,?,?,?,?,?)",
        (base, last, len(keys), offsets, *batches.pack(keys, values, timestamps, headers)),
    )


class _write:
    """``with _write(db):`` an immediate (write-locking) transaction."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransportError(f"embedded broker is locked by another process: {exc}") from None
        return self.db

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        if exc_type is None:
            self.db.execute("COMMIT")
        else:
            self.db.execute("ROLLBACK")


class LocalProducer(Producer):
    """Queues records per partition, column by column, as they are sent; ``flush`` appends
    each partition's queue as record batches in one write transaction."""

    def __init__(self, transport: LocalTransport) -> None:
        self.transport = transport
        # (topic, partition) -> [keys], [values], [timestamps], [headers as JSON or None]
        self._queues: dict[tuple[str, int], tuple[list[Any], list[Any], list[int], list[Any]]] = {}
        self._order: list[tuple[str, int]] = []  # partition of every queued record, in send order
        self._parts: dict[str, int] = {}

    @property
    def pending(self) -> int:
        return len(self._order)

    def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        *,
        partition: int | None = None,
        headers: Headers | None = None,
        timestamp: int | None = None,
    ) -> None:
        parts = self._parts.get(topic)
        if parts is None:
            parts = self._parts[topic] = self.transport.topic_info(topic)[1]
        if partition is None:
            partition = partition_for(key, parts)
        elif not 0 <= partition < parts:
            raise TransportError(f"topic {topic!r} has no partition {partition}")
        tp = (topic, partition)
        queue = self._queues.get(tp)
        if queue is None:
            queue = self._queues[tp] = ([], [], [], [])
        queue[0].append(key)
        queue[1].append(value)
        queue[2].append(timestamp if timestamp is not None else int(time.time() * 1000))
        queue[3].append(batches.encode_headers(headers) if headers else None)
        self._order.append(tp)

    def flush(self) -> list[RecordMetadata]:
        if not self._order:
            return []
        queues, order = self._queues, self._order
        self._queues, self._order = {}, []
        t = self.transport
        for (topic, _p), (keys, *_rest) in queues.items():
            if topic in t._compacted and None in keys:
                raise TransportError(
                    f"compacted topic {topic!r} cannot accept a record without a key (as Kafka)"
                )
        first: dict[tuple[str, int], int] = {}
        step = batches.ROW_MAX
        with _write(t.db) as db:
            ends = []
            for (topic, partition), (keys, values, stamps, headers) in queues.items():
                tid = t.topic_info(topic)[0]
                (off,) = db.execute(
                    "SELECT next_offset FROM partitions WHERE tid=? AND partition=?",
                    (tid, partition),
                ).fetchone()
                first[(topic, partition)] = off
                log = _log(tid, partition)
                n = len(keys)
                for i in range(0, n, step):
                    j = min(n, i + step)
                    _insert_batch(
                        db,
                        log,
                        off + i,
                        off + j - 1,
                        None,
                        keys[i:j],
                        values[i:j],
                        stamps[i:j],
                        headers[i:j],
                    )
                ends.append((off + n, tid, partition))
            db.executemany("UPDATE partitions SET next_offset=? WHERE tid=? AND partition=?", ends)
        new = tuple.__new__
        meta = []
        for tp in order:
            off = first[tp]
            first[tp] = off + 1
            meta.append(new(RecordMetadata, (tp[0], tp[1], off)))
        self._maybe_compact({t.topic_info(topic)[0] for topic, _ in queues})
        return meta

    def _maybe_compact(self, tids: set[int]) -> None:
        t = self.transport
        for name, (tid, _) in list(t._topics.items()):
            if tid not in tids:
                continue
            if name not in t._compacted:
                continue
            # a partition is compacted once it grew by COMPACT_EVERY records and by as many
            # as it kept last time: a compaction's full scan is paid off by the records
            # since, whatever the number of live keys
            due = [
                p
                for (p,) in t.db.execute(
                    "SELECT partition FROM partitions WHERE tid=? AND "
                    "next_offset - compacted_to >= MAX(?, compacted_live)",
                    (tid, COMPACT_EVERY),
                )
            ]
            if due:
                t.compact(name, due)

    def discard(self) -> None:
        self._queues.clear()
        self._order.clear()

    def close(self) -> None:
        self.flush()


class LocalConsumer(Consumer):
    def __init__(self, transport: LocalTransport, group_id: str | None) -> None:
        self.transport = transport
        self.group_id = group_id
        self._positions: dict[TopicPartition, int] = {}
        self._ids: dict[str, int] = {}
        self._listener: RebalanceListener | None = None
        self._pending_assign: set[TopicPartition] | None = None
        self._member = False
        self._rr = 0
        self._cache: dict[TopicPartition, Any] = {}  # the last, partly read batch per partition

    # -- assignment ----------------------------------------------------------------
    def assign(self, partitions: Iterable[TopicPartition]) -> None:
        tps = list(partitions)
        for tp in tps:
            tid, parts = self.transport.topic_info(tp.topic)
            if not 0 <= tp.partition < parts:
                raise TransportError(f"topic {tp.topic!r} has no partition {tp.partition}")
            self._ids[tp.topic] = tid
        self._positions = {tp: self._initial_position(tp) for tp in tps}

    def subscribe(self, topics: Sequence[str], listener: RebalanceListener | None = None) -> None:
        if self.group_id is not None:
            self._join()
        tps: list[TopicPartition] = []
        for name in topics:
            _, parts = self.transport.topic_info(name)
            tps.extend(TopicPartition(name, p) for p in range(parts))
        self.assign(tps)
        self._listener = listener
        self._pending_assign = set(tps)

    def _join(self) -> None:
        """Become the group's only member, unless a live process already is."""
        db = self.transport.db
        with _write(db):
            row = db.execute(
                "SELECT pid, host FROM group_members WHERE group_id=?", (self.group_id,)
            ).fetchone()
            me = (os.getpid(), os.uname().nodename)
            if row is not None and tuple(row) != me and row[1] == me[1] and _pid_alive(row[0]):
                raise TransportError(
                    f"consumer group {self.group_id!r} is already consumed by process {row[0]} "
                    f"on the embedded broker at {self.transport.datadir}; the embedded broker "
                    "runs one worker per group (use Kafka to scale out)"
                )
            db.execute(
                "INSERT OR REPLACE INTO group_members VALUES (?,?,?,?)",
                (self.group_id, me[0], me[1], time.time()),
            )
        self._member = True

    def assignment(self) -> set[TopicPartition]:
        return set(self._positions)

    def _initial_position(self, tp: TopicPartition) -> int:
        committed = self.committed(tp)
        if committed is not None:
            return committed
        return self.beginning_offsets([tp])[tp]

    # -- reading ---------------------------------------------------------------------
    def poll(self, max_records: int = 1000, timeout: float = 0.0) -> list[Message]:
        if self._pending_assign is not None:
            assigned, self._pending_assign = self._pending_assign, None
            if self._listener is not None:
                self._listener.on_partitions_assigned(assigned)
        deadline = time.monotonic() + timeout
        while True:
            out = self._fetch(max_records)
            if out or time.monotonic() >= deadline:
                return out
            time.sleep(min(0.02, max(0.0, deadline - time.monotonic())))

    def _fetch(self, max_records: int) -> list[Message]:
        if not self._positions:
            return []
        db = self.transport.db
        ends = self.end_offsets(self._positions)
        ready = [tp for tp, pos in self._positions.items() if pos < ends[tp]]
        if not ready:
            return []
        # rotate the starting partition so one busy partition cannot starve the others
        self._rr = (self._rr + 1) % len(ready)
        ready = ready[self._rr :] + ready[: self._rr]
        out: list[Message] = []
        new = tuple.__new__
        cache = self._cache
        for tp in ready:
            room = max_records - len(out)
            if room <= 0:
                break
            topic, part = tp
            pos, end = self._positions[tp], ends[tp]
            log = _log(self._ids[topic], part)
            while room > 0 and pos < end:
                batch = cache.get(tp)
                if batch is None or not batch[0][0] <= pos <= batch[0][-1]:
                    row = db.execute(
                        f"SELECT {_BATCH_COLUMNS} FROM {log} WHERE last >= ? ORDER BY last LIMIT 1",
                        (pos,),
                    ).fetchone()
                    if row is None:  # everything up to the end was compacted away
                        pos = end
                        break
                    batch = cache[tp] = batches.unpack(*row)
                offs, keys, vals, stamps, hdrs = batch
                i = bisect_left(offs, pos)
                j = min(len(offs), i + room)
                out.extend(
                    [
                        new(Message, (topic, part, o, k, v, t, h))
                        for o, k, v, t, h in zip(
                            offs[i:j], keys[i:j], vals[i:j], stamps[i:j], hdrs[i:j]
                        )
                    ]
                )
                room -= j - i
                pos = offs[j - 1] + 1
                if j == len(offs):
                    del cache[tp]
            self._positions[tp] = pos
        return out

    def seek(self, tp: TopicPartition, offset: int) -> None:
        if tp not in self._positions:
            raise TransportError(f"cannot seek {tp.topic}[{tp.partition}]: not assigned")
        self._positions[tp] = offset

    def position(self, tp: TopicPartition) -> int:
        return self._positions[tp]

    # -- offsets ---------------------------------------------------------------------
    def _tid(self, topic: str) -> int:
        tid = self._ids.get(topic)
        if tid is None:
            tid = self._ids[topic] = self.transport.topic_info(topic)[0]
        return tid

    def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        if self.group_id is None:
            raise TransportError("cannot commit offsets without a consumer group")
        if not offsets:
            return
        with _write(self.transport.db) as db:
            db.executemany(
                "INSERT OR REPLACE INTO group_offsets VALUES (?,?,?,?)",
                [
                    (self.group_id, self._tid(tp.topic), tp.partition, off)
                    for tp, off in offsets.items()
                ],
            )
            if self._member:
                db.execute(
                    "UPDATE group_members SET heartbeat=? WHERE group_id=?",
                    (time.time(), self.group_id),
                )

    def committed(self, tp: TopicPartition) -> int | None:
        if self.group_id is None:
            return None
        row = self.transport.db.execute(
            "SELECT offset FROM group_offsets WHERE group_id=? AND tid=? AND partition=?",
            (self.group_id, self._tid(tp.topic), tp.partition),
        ).fetchone()
        return None if row is None else row[0]

    def _partition_column(
        self, column: str, tps: Iterable[TopicPartition]
    ) -> dict[TopicPartition, int]:
        by_topic: dict[str, list[TopicPartition]] = {}
        for tp in tps:
            by_topic.setdefault(tp.topic, []).append(tp)
        out: dict[TopicPartition, int] = {}
        for topic, wanted in by_topic.items():
            values = dict(
                self.transport.db.execute(
                    f"SELECT partition, {column} FROM partitions WHERE tid=?", (self._tid(topic),)
                ).fetchall()
            )
            for tp in wanted:
                out[tp] = values[tp.partition]
        return out

    def end_offsets(self, tps: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        return self._partition_column("next_offset", tps)

    def beginning_offsets(self, tps: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        return self._partition_column("start_offset", tps)

    def close(self) -> None:
        if self._member:
            try:
                with _write(self.transport.db) as db:
                    db.execute(
                        "DELETE FROM group_members WHERE group_id=? AND pid=?",
                        (self.group_id, os.getpid()),
                    )
            except (sqlite3.Error, TransportError):
                pass
            self._member = False
