"""The table manager: an app's tables as one group, the way a worker drives them.

The worker holds one :class:`TableManager` and calls it at each step of a table's
life (see ``tables/lifecycle.py`` for what each table does):

0. before any topic, changelog or store is created, :func:`check_partitions`: each
   table partitioned like the topics whose events write it and like its changelog
   topic if that exists already (``App.ensure_topics`` runs it; so does
   ``streamctl validate`` with the declared counts only);
1. start-up, :meth:`TableManager.start`: each table checked again against the
   partition counts the broker has for its source topics; global tables rebuilt
   from their changelogs, then following them, each with a consumer of its own;
2. on assignment, :meth:`TableManager.assign`: the newly assigned partitions of every
   (non-global) table rebuilt from their changelogs before their first event;
3. after a revoke was committed, :meth:`TableManager.revoke`: the stores of partitions
   this worker no longer has are closed, or, with standby replicas, kept as standbys;
   :meth:`TableManager.set_standbys` after each assignment: the partitions other
   workers own that this one keeps warm copies of (``tables/standby.py``); a standby
   that becomes active is recovered from its store's offset, not from scratch;
4. per batch, it is the all-tables ``BatchState`` of ``worker/commit.py`` (the commit
   order), and :attr:`TableManager.dirty` tells whether a table holds uncommitted writes;
5. in the run loop, :meth:`TableManager.follow_globals` applies what global tables'
   changelogs received meanwhile, and :meth:`TableManager.follow_standbys` what the
   standby partitions' changelogs did.

A partition is never both active and standby in one worker: it stops being a standby
before its recovery as an active partition, and ``set_standbys`` leaves out the
active ones.

It knows tables and a transport, nothing of workers or apps.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from streamctl.exceptions import ConfigurationError
from streamctl.tables.base import Collection
from streamctl.tables.recovery import Progress
from streamctl.tables.standby import Standbys
from streamctl.transport.base import Consumer, Message, Producer, RecordMetadata, Transport
from streamctl.transport.exceptions import TransportError

log = logging.getLogger("streamctl.tables")

#: changelog records a global table applies per poll while the worker runs
FOLLOW_BATCH = 10_000


def partition_problems(
    tables: Iterable[Collection], declared: Mapping[str, int], existing: Mapping[str, int]
) -> list[tuple[Collection, str]]:
    """(table, why) for each table not partitioned like a topic that writes it, or like
    its changelog topic when the broker has that already.

    ``declared``: topic name -> the partitions it would be created with; ``existing``:
    topic name -> the partitions the broker has (an existing topic's count is what
    counts: creating is skipped for it). Only the topics known to write a table are
    checked against it (``Collection.sources``; #9), never every topic of the app.
    """
    problems: list[tuple[Collection, str]] = []
    for table in tables:
        if table.is_global:
            continue
        changelog = table.changelog_topic.name
        have = existing.get(changelog)
        if have is not None and have != table.partitions:
            writers = {existing.get(t, declared.get(t)) for t in table.sources} - {None}
            # declaring the changelog's count only helps when the writing topics have it too
            redeclare = (
                f"declare the table with partitions={have} (its state is partitioned that way), or "
                if writers and writers <= {have}
                else ""
            )
            problems.append(
                (
                    table,
                    f"table {table.name!r} has {table.partitions} partition(s) but its "
                    f"changelog topic {changelog!r} exists with {have}: {redeclare}delete "
                    f"that topic (streamctl topic delete {changelog}) and the table's stores "
                    "to start the table over",
                )
            )
            continue
        for topic in table.sources:
            count = existing.get(topic, declared.get(topic))
            if count is None:
                continue
            why = table.partition_problem(topic, count, exists=topic in existing)
            if why is not None:
                problems.append((table, why))
                break
    return problems


def check_partitions(
    tables: Iterable[Collection], declared: Mapping[str, int], existing: Mapping[str, int]
) -> None:
    """Raise ConfigurationError for the first of :func:`partition_problems`."""
    problems = partition_problems(tables, declared, existing)
    if problems:
        raise ConfigurationError(problems[0][1])


class TableManager:
    """Co-partitioning, recovery on assign, release on revoke, global following, commit."""

    def __init__(
        self,
        tables: Iterable[Collection],
        *,
        progress: Progress | None = None,
        standby_replicas: int = 0,
    ) -> None:
        self.tables = list(tables)
        self.partitioned = [t for t in self.tables if not t.is_global]
        self.globals = [t for t in self.tables if t.is_global]
        #: ``progress(table, partition, done, total)`` while changelogs are replayed
        self.progress = progress
        self._transport: Transport | None = None
        self._assigned: set[int] = set()
        self._following: list[tuple[Consumer, Collection]] = []
        #: how many workers besides the owner keep a standby of each partition (Faust's
        #: ``table_standby_replicas``); 0: none, revoked stores are closed
        self.standby_replicas = standby_replicas
        self._standbys: Standbys | None = None

    # -- start-up ---------------------------------------------------------------------------
    def start(self, transport: Transport, sources: Mapping[str, int]) -> None:
        """Check each table against those of ``sources`` (topic -> partitions on the
        broker) whose events write it, then rebuild the global tables and follow their
        changelogs. Recoveries use ``transport``."""
        self._transport = transport
        if self.standby_replicas > 0 and self.partitioned:
            self._standbys = Standbys(self.partitioned, transport)
        for topic, partitions in sources.items():
            for table in self.partitioned:
                if topic in table.sources:
                    why = table.partition_problem(topic, partitions, exists=True)
                    if why is not None:
                        raise ConfigurationError(why)
        for table in self.globals:
            table.recover(transport, None, progress=self.progress)
        for table in self.globals:
            consumer = transport.consumer(None)
            table.follow(consumer)
            self._following.append((consumer, table))

    def follow_globals(self) -> int:
        """Apply the changelog records global tables received since the last call."""
        applied = 0
        for consumer, table in self._following:
            messages: list[Message] = consumer.poll(FOLLOW_BATCH, timeout=0.0)
            if messages:
                applied += table.apply_changelog(messages)
        return applied

    # -- rebalance --------------------------------------------------------------------------
    def assign(self, partitions: Iterable[int]) -> set[int]:
        """Rebuild the partitions not assigned before; returns them.

        A call that raised (the broker went away mid-recovery: BrokerUnavailable) may be
        made again: its partitions count as assigned only once every table recovered
        them, and a second recovery resumes from what the stores already hold.
        """
        parts = set(partitions)
        new = parts - self._assigned
        if new and self.partitioned:
            transport = self._transport
            if transport is None:
                raise RuntimeError("TableManager.assign before start")
            if self._standbys is not None:
                promoted = self._standbys.take(new)
                if promoted:
                    log.info(
                        "standby partition(s) %s now active: resuming from their offsets",
                        ",".join(map(str, sorted(promoted))),
                    )
            for table in self.partitioned:
                table.recover(transport, new, progress=self.progress)
        self._assigned |= parts
        return new

    def catch_up(self) -> None:
        """Replay into the held partitions' stores what their changelogs have beyond them.

        Exactly-once, after a transaction whose outcome is unknown (a commit that timed
        out may have committed on the broker): the stores apply only committed writes,
        so they may be behind their changelogs, never ahead.
        """
        if self._transport is None or not self._assigned:
            return
        for table in self.partitioned:
            table.recover(self._transport, set(self._assigned), progress=self.progress)

    def revoke(self, remaining: Iterable[int], *, keep_standbys: bool = True) -> set[int]:
        """Stop holding the partitions not in ``remaining`` (after their last commit): their
        stores are closed or, with standby replicas and ``keep_standbys``, kept as
        standbys until the next :meth:`set_standbys` says otherwise. Returns the
        partitions released."""
        keep = set(remaining)
        gone = self._assigned - keep
        self._assigned = keep
        if gone:
            standbys = self._standbys if keep_standbys else None
            for table in self.partitioned:
                if standbys is None:
                    table.release(gone)
                else:
                    table.release(gone, keep_stores=True)
            if standbys is not None:
                self._hold(standbys, standbys.partitions | gone)
        return gone

    # -- standby replicas -------------------------------------------------------------------
    @property
    def standbys(self) -> set[int]:
        """The partitions this worker keeps standbys of (never an active one)."""
        return set() if self._standbys is None else set(self._standbys.partitions)

    def set_standbys(self, partitions: Iterable[int]) -> None:
        """Keep standbys of ``partitions`` (the active ones left out), and of no others."""
        if self._standbys is not None:
            self._hold(self._standbys, set(partitions) - self._assigned)

    def _hold(self, standbys: Standbys, partitions: set[int]) -> None:
        """``standbys.hold``; a broker that does not answer leaves the partitions it could
        not start closed, with a warning (standbys are an optimisation, never the truth)."""
        try:
            standbys.hold(partitions)
        except TransportError as exc:
            log.warning("standby partitions not updated: %s", exc)
            for table in self.partitioned:
                table.close_standbys(partitions - standbys.partitions)

    def follow_standbys(self) -> int:
        """Apply what the standby partitions' changelogs received since the last call."""
        return 0 if self._standbys is None else self._standbys.poll()

    def standby_lag(self) -> dict[tuple[str, int], int]:
        """(table, partition) -> changelog records each standby has not read yet."""
        return {} if self._standbys is None else self._standbys.lag()

    # -- the batch (worker/commit.py's BatchState) ------------------------------------------
    def prepare_commit(self, producer: Producer) -> int:
        """Every table sends its batch's coalesced changelog records; returns how many."""
        return sum(t.prepare_commit(producer) for t in self.tables)

    def commit(self, metadata: list[RecordMetadata]) -> None:
        """Every table's stores commit, each with the changelog offset it reflects."""
        for t in self.tables:
            t.commit(metadata)

    def discard_batch(self) -> None:
        """Every table forgets its buffered and in-flight writes."""
        for t in self.tables:
            t.discard_batch()

    @property
    def dirty(self) -> bool:
        """True while some table holds writes not yet in its stores."""
        return any(t.dirty for t in self.tables)

    def close(self) -> None:
        """Close the global tables' and the standbys' consumers (the tables themselves, with
        their stores, belong to the app)."""
        following, self._following = self._following, []
        for consumer, _table in following:
            consumer.close()
        if self._standbys is not None:
            self._standbys.close()
