"""Standby replicas: warm copies of table partitions this worker does not own.

Faust's ``table_standby_replicas`` and Kafka Streams' ``num.standby.replicas``: a
worker follows the changelogs of table partitions another worker of its group owns,
applying their records to local stores, so that when a rebalance hands it such a
partition, recovery replays only what its standby had not read yet
(:func:`streamctl.tables.recovery.recover` resumes from the store's offset).

One consumer of its own (no consumer group, so it never joins the app's group; on
Kafka it reads committed records only when the app is exactly-once, as recovery does,
so a standby never holds an aborted write) is assigned the standby partitions of
every partitioned table's changelog. Which partitions are standbys is the worker's
choice on each rebalance (``streamctl.worker.rebalance``); this module keeps them:

- :meth:`Standbys.hold` makes a set of partitions the standbys: stores of partitions
  let go are closed, new ones are opened, checked like a recovery's
  (:func:`~streamctl.tables.recovery.trusted_start`) and followed from their offset;
- :meth:`Standbys.take` stops following partitions that become active, leaving their
  stores open, at the offset their consumer reached, for the recovery that follows;
- :meth:`Standbys.poll` applies what the changelogs received (the run loop calls it);
- :meth:`Standbys.lag` says how many records each standby is behind.

The changelog stays the truth: a standby store is only ever ahead of where the
worker would otherwise start, never different from the log.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from streamctl.tables.base import Collection
from streamctl.transport.base import Consumer, Message, TopicPartition, Transport

log = logging.getLogger("streamctl.tables")

#: changelog records the standbys apply per poll while the worker runs
POLL_BATCH = 10_000


class Standbys:
    """The standby partitions of ``tables`` (partitioned ones) in this worker.

    A table partition here is a partition number, the same for every table (tables
    are co-partitioned with their source topics).
    """

    def __init__(self, tables: Sequence[Collection], transport: Transport) -> None:
        self.tables = list(tables)
        self.transport = transport
        #: the partitions followed now
        self.partitions: set[int] = set()
        self._by_topic = {t.changelog_name: t for t in self.tables}
        self._consumer: Consumer | None = None

    def _tps(self, partitions: Iterable[int]) -> set[TopicPartition]:
        return {TopicPartition(t.changelog_name, p) for t in self.tables for p in partitions}

    def hold(self, partitions: Iterable[int]) -> None:
        """Make ``partitions`` the standbys: follow the new ones from their stores' offsets,
        close the stores of those let go. A store that cannot be trusted (ahead of its
        changelog) is not held, with a warning: its recovery refuses it if it becomes
        active. Raises what the consumer raises (``BrokerUnavailable``) before changing
        anything but the new partitions' stores, which are left open."""
        wanted = set(partitions)
        gone, new = self.partitions - wanted, wanted - self.partitions
        refused: set[int] = set()
        if new:
            consumer = self._open()
            tps = self._tps(new)
            ends = consumer.end_offsets(tps)
            begins = consumer.beginning_offsets(tps)
            for p in sorted(new):
                for table in self.tables:
                    tp = TopicPartition(table.changelog_name, p)
                    if table.standby_start(p, begins[tp], ends[tp]) is None:
                        refused.add(p)
        self.partitions = (self.partitions - gone) | (new - refused)
        for table in self.tables:
            table.close_standbys(gone | refused)
        self._reassign()
        if gone or new:
            log.info(
                "standby partitions: %s", ",".join(map(str, sorted(self.partitions))) or "none"
            )

    def take(self, partitions: Iterable[int]) -> set[int]:
        """Stop following ``partitions`` (they become active); their stores stay open.
        Returns those that were standbys."""
        taken = self.partitions & set(partitions)
        if taken:
            consumer = self._consumer
            if consumer is not None:
                for table in self.tables:
                    for p in taken:
                        tp = TopicPartition(table.changelog_name, p)
                        table.standby_reached(p, consumer.position(tp))
            self.partitions -= taken
            self._reassign()
        return taken

    def _reassign(self) -> None:
        """Assign the consumer the standbys' changelog partitions: those it followed already
        where it was (kafka-python's ``assign`` does not promise to keep positions), new
        ones at their stores' offsets."""
        if self._consumer is None:
            if not self.partitions:
                return
            self._open()
        consumer = self._consumer
        assert consumer is not None
        tps = self._tps(self.partitions)
        kept = {tp: consumer.position(tp) for tp in consumer.assignment() & tps}
        consumer.assign(tps)
        for table in self.tables:
            for p in self.partitions:
                tp = TopicPartition(table.changelog_name, p)
                consumer.seek(tp, kept.get(tp, table.next_offset(p)))

    def _open(self) -> Consumer:
        if self._consumer is None:
            self._consumer = self.transport.consumer(None)
        return self._consumer

    def poll(self) -> int:
        """Apply the changelog records received since the last call; returns how many."""
        if not self.partitions or self._consumer is None:
            return 0
        messages = self._consumer.poll(POLL_BATCH, timeout=0.0)
        if not messages:
            return 0
        by_topic: dict[str, list[Message]] = {}
        for m in messages:
            if m.partition in self.partitions:
                by_topic.setdefault(m.topic, []).append(m)
        applied = 0
        for topic, records in by_topic.items():
            table = self._by_topic.get(topic)
            if table is not None:
                applied += table.apply_changelog(records)
        return applied

    def lag(self) -> dict[tuple[str, int], int]:
        """(table name, partition) -> changelog records the standby has not read yet (its
        consumer's position against the end, so transaction markers do not count).
        Raises what the consumer raises (``BrokerUnavailable``)."""
        consumer = self._consumer
        if consumer is None or not self.partitions:
            return {}
        tps = self._tps(self.partitions)
        ends = consumer.end_offsets(tps)
        return {
            (self._by_topic[tp.topic].name, tp.partition): max(0, end - consumer.position(tp))
            for tp, end in ends.items()
        }

    def close(self) -> None:
        """Close the consumer (the stores belong to the tables, which close them)."""
        consumer, self._consumer = self._consumer, None
        self.partitions = set()
        if consumer is not None:
            consumer.close()
