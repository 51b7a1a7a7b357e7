"""LocalTransport: producers, consumers and topic admin on the embedded broker's log."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from streamctl.transport.base import GroupInfo, TopicPartition, TopicSpec, Transport
from streamctl.transport.exceptions import TransportError, UnknownTopic
from streamctl.transport.local import admin, groups, log
from streamctl.transport.local.consumer import LocalConsumer
from streamctl.transport.local.integrity import LogDamaged
from streamctl.transport.local.producer import LocalProducer


class LocalTransport(Transport):
    """``local://``: the embedded broker under ``datadir`` (``<datadir>/broker.db``).

    Raises TransportError when the data dir cannot hold a broker log (see
    :func:`streamctl.transport.local.log.open_log`).
    """

    scheme = "local"
    #: one SQLite transaction holds a batch's outputs, changelog records and offsets
    supports_transactions = True

    @classmethod
    def setting_names(cls) -> frozenset[str]:
        """Empty: the embedded broker takes no client settings (engine ones go in ``settings``)."""
        return frozenset()

    def __init__(self, url: str = "local://", *, datadir: Path, **settings: Any) -> None:
        self.url = url
        self.datadir = Path(datadir)
        self.path = log.broker_path(self.datadir)
        self.settings = settings
        self._topics: dict[str, tuple[int, int]] = {}  # name -> (id, partitions)
        self._compacted: set[str] = set()
        self._writer = False
        reader = log.open_log(self.datadir, read_only=True)
        #: the connection every read goes through: read-only until something writes
        #: (:meth:`writable`); an empty in-memory log while the data dir has none
        self.db: sqlite3.Connection = reader if reader is not None else _empty_log()

    def writable(self) -> sqlite3.Connection:
        """Switch to a connection that can write, creating the data dir and log if need be.

        Reads never write: opening the transport creates nothing; the first
        producer, group consumer, topic creation or compaction does.
        """
        if not self._writer:
            db = log.open_log(self.datadir)
            assert db is not None
            self.db.close()
            self.db, self._writer = db, True
        return self.db

    def close(self) -> None:
        try:
            self.db.close()
        except sqlite3.Error:
            pass

    # -- admin --------------------------------------------------------------------
    def create_topics(self, specs: Iterable[TopicSpec]) -> None:
        specs = list(specs)
        existing = self.list_topics()
        if all(spec.name in existing for spec in specs):
            return  # nothing to create: a reader stays a reader
        self.writable()
        with log.write(self.db):
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
                    log.create_partition_log(self.db, tid, p)

    def list_topics(self) -> dict[str, TopicSpec]:
        try:
            rows = self.db.execute(
                "SELECT name, partitions, compacting, config FROM topics"
            ).fetchall()
        except sqlite3.DatabaseError as exc:
            raise LogDamaged(
                f"data dir {self.datadir}: {self.path.name} cannot list its topics ({exc}); "
                "restore it from a backup"
            ) from None
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

    def is_compacted(self, name: str) -> bool:
        """Whether topic ``name`` is compacted; raises UnknownTopic."""
        self.topic_info(name)
        return name in self._compacted

    def compact(self, topic: str, partitions: Iterable[int] | None = None) -> int:
        """Drop every record of a compacted topic that a later record with the same key
        replaces (in ``partitions``, default all); returns how many were dropped."""
        tid, parts = self.topic_info(topic)
        self.writable()
        return log.compact(self.db, tid, range(parts) if partitions is None else partitions)

    def group_members(self, group_id: str) -> list[str] | None:
        """The group's live member, if its process still runs (a crashed one does not count)."""
        return groups.live_members(self.db, group_id)

    # -- group and topic administration (see streamctl.transport.local.admin) -------------
    def list_groups(self) -> list[GroupInfo]:
        return admin.list_groups(self.db)

    def describe_group(self, group_id: str) -> GroupInfo:
        return admin.describe_group(self.db, group_id)

    def group_offsets(self, group_id: str) -> dict[TopicPartition, int]:
        return admin.group_offsets(self.db, group_id)

    def alter_group_offsets(self, group_id: str, offsets: Mapping[TopicPartition, int]) -> None:
        admin.alter_group_offsets(self.writable(), group_id, offsets, str(self.datadir))

    def offsets_for_times(
        self, timestamps: Mapping[TopicPartition, int]
    ) -> dict[TopicPartition, int | None]:
        return admin.offsets_for_times(self.db, timestamps, str(self.datadir))

    def delete_topics(self, names: Iterable[str]) -> None:
        names = list(names)
        admin.delete_topics(self.writable(), names, str(self.datadir))
        for name in names:
            self._topics.pop(name, None)
            self._compacted.discard(name)

    def producer(self, *, transactional_id: str | None = None) -> LocalProducer:
        """A producer; with ``transactional_id``, a transactional one: its records and the
        offsets it commits land in one SQLite transaction (exactly-once). The embedded
        broker runs one worker per group, so there is no zombie to fence: the id only
        selects transactions."""
        self.writable()
        return LocalProducer(self, transactional=transactional_id is not None)

    def consumer(self, group_id: str | None) -> LocalConsumer:
        if group_id is not None:
            self.writable()  # a group member records itself and commits offsets
        return LocalConsumer(self, group_id)


def _empty_log() -> sqlite3.Connection:
    """An in-memory log with no topics: what a reader sees of a data dir without one."""
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.executescript(log.SCHEMA)
    return db
