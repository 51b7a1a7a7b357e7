"""When the worker commits, and what: the source offsets it processed, with the tables.

The order of a commit is ``commit.py``'s; this module decides when one happens and
which offsets it carries. Commits happen every ``commit_interval`` seconds, when the
input goes idle and before stopping (:meth:`Committer.commit`, which waits for an
absent broker up to ``broker_wait_timeout``), and on a rebalance, before partitions
go (:meth:`Committer.commit_now`, which cannot wait: it runs inside ``poll``).

The offsets committed are the next offset to read per partition, never past an event
a stream still holds back (``take``): such an event is processed by whoever reads the
partition next. With exactly-once every commit is one transaction (Kafka's, or one
SQLite transaction on the embedded broker). A transaction that fails (the broker went
away, the producer was fenced because the broker aborted the transaction on its
timeout) is aborted, the batch's table writes are dropped, a new transactional producer
is opened (waiting for the broker up to ``broker_wait_timeout``), the consumer seeks back
to the committed offsets and a new transaction begins: the batch is processed again, as
Kafka Streams does when a task migrates.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from operator import itemgetter
from typing import TypeVar

from streamctl.context import Context
from streamctl.tables.manager import TableManager
from streamctl.transport.base import Consumer, Message, TopicPartition
from streamctl.transport.exceptions import (
    BrokerUnavailable,
    CommitFailed,
    TransactionFailed,
    TransportError,
)
from streamctl.worker import commit
from streamctl.worker.dispatch import Dispatcher
from streamctl.worker.retry import until_broker_answers, until_broker_answers_blocking

log = logging.getLogger("streamctl.worker")

#: a Message's topic, partition, (topic, partition) and offset
_TOPIC, _PARTITION, _TP, _OFFSET = itemgetter(0), itemgetter(1), itemgetter(0, 1), itemgetter(2)

T = TypeVar("T")

#: the longest pause between attempts while waiting for the broker to come back
MAX_DELAY = 5.0


class Committer:
    """The offsets processed and not yet committed, and the commits that carry them."""

    def __init__(
        self, context: Context, tables: TableManager, consumer: Consumer, dispatcher: Dispatcher
    ) -> None:
        self.context = context
        self.tables = tables
        self.consumer = consumer
        self.dispatcher = dispatcher
        #: commits counted and timed, records written counted per topic and table
        self.stats = dispatcher.dead_letters.stats
        self.exactly_once = context.conf.exactly_once
        self.last_commit = time.monotonic()
        #: per partition, the offset after the last record processed (not committed yet)
        self.uncommitted: dict[TopicPartition, int] = {}
        #: per partition, the offset this worker last committed
        self.committed: dict[TopicPartition, int] = {}
        #: exactly-once: a transaction failed where the producer could not be replaced
        #: (inside a rebalance); the next commit replaces it first
        self.broken = False

    # -- what there is to commit -------------------------------------------------------------
    def note(self, messages: list[Message]) -> None:
        """The batch ``messages`` was processed: their partitions move past them."""
        # the last offset per partition, in C loops (this runs over every record); keyed
        # by the partition number alone when the batch is of one topic (no tuple each)
        uncommitted = self.uncommitted
        topics = set(map(_TOPIC, messages))
        if len(topics) == 1:
            (topic,) = topics
            by_partition = dict(zip(map(_PARTITION, messages), map(_OFFSET, messages)))
            for partition, offset in by_partition.items():
                uncommitted[TopicPartition(topic, partition)] = offset + 1
            return
        last = dict(zip(map(_TP, messages), map(_OFFSET, messages)))
        for (topic, partition), offset in last.items():
            uncommitted[TopicPartition(topic, partition)] = offset + 1

    def dirty(self) -> bool:
        """Records queued and not flushed, or table writes not yet in the stores."""
        producer = self.context.producer_if_open()
        if producer is not None and producer.pending:
            return True
        return self.tables.dirty

    @property
    def pending(self) -> bool:
        """Something to commit: offsets or writes."""
        return bool(self.uncommitted) or self.dirty()

    def due(self) -> bool:
        interval = self.context.conf.commit_interval
        return interval <= 0 or time.monotonic() - self.last_commit >= interval

    def forget_partitions(self, revoked: set[TopicPartition]) -> None:
        """Revoked partitions: what was not committed is their next owner's to process."""
        for tp in revoked:
            self.uncommitted.pop(tp, None)
            self.committed.pop(tp, None)

    def note_idle(self) -> None:
        """A poll returned nothing: every record before each partition's position was
        processed, so the position itself is committable.

        On Kafka a transactional producer (an exactly-once app, ``streamctl send``) ends
        each transaction with a commit marker, which takes an offset but is no record:
        the last record's offset + 1 then stays one behind the end forever, and the group
        shows a lag it never works off. The consumer's position is past the marker, so
        it is what gets committed, as Kafka Streams commits ``consumer.position()``.
        Partitions with events held back by ``take`` are left as they are.
        """
        held = {TopicPartition(e[2].topic, e[2].partition) for e in self.dispatcher.held()}
        uncommitted, committed, consumer = self.uncommitted, self.committed, self.consumer
        for tp in consumer.assignment():
            if tp in held:
                continue
            position = consumer.position(tp)
            if position > uncommitted.get(tp, -1) and position > committed.get(tp, -1):
                uncommitted[tp] = position

    def committable(self) -> dict[TopicPartition, int]:
        """The offsets to commit: processed ones, held back before any held event."""
        offsets = dict(self.uncommitted)
        for event in self.dispatcher.held():
            m = event[2]
            tp = TopicPartition(m.topic, m.partition)
            if tp in offsets and offsets[tp] > m.offset:
                offsets[tp] = m.offset
        return offsets

    # -- committing ----------------------------------------------------------------------------
    async def commit(self) -> None:
        """Commit, waiting for the broker (up to broker_wait_timeout) when it is away."""
        started = self.last_commit = time.monotonic()
        try:
            await self._commit()
        finally:
            self.stats.commits.observe(time.monotonic() - started)

    async def _commit(self) -> None:
        if self.exactly_once:
            try:
                self._commit_transaction()
            except (BrokerUnavailable, TransactionFailed) as exc:
                await self._restart_transaction(exc)
            return
        # the offsets come first: while a flush waits for the broker, agents may process
        # more (a take() chunk); those events' writes are not in this commit, nor their offsets
        offsets = self.committable()
        state = self.tables
        producer = self.context.producer
        try:
            metadata = commit.flush(state, producer)
        except BrokerUnavailable as exc:
            metadata = await self._wait_for_broker(exc, lambda: commit.flush_again(producer))
        commit.apply(state, metadata)
        self.stats.flushed(metadata)
        try:
            self._commit_offsets(offsets)
        except BrokerUnavailable as exc:
            await self._wait_for_broker(exc, lambda: self._commit_offsets(offsets))

    def commit_now(self) -> None:
        """Commit without waiting for the broker (from a rebalance listener)."""
        started = self.last_commit = time.monotonic()
        try:
            self._commit_now()
        finally:
            self.stats.commits.observe(time.monotonic() - started)

    def _commit_now(self) -> None:
        if self.exactly_once:
            try:
                self._commit_transaction()
            except (BrokerUnavailable, TransactionFailed) as exc:
                # the partitions go: their next owner (maybe this worker again) starts from
                # the committed offsets; the producer is replaced by the next commit()
                log.warning(
                    "%s; the transaction was aborted and its batch is left to the "
                    "partitions' next owner",
                    exc,
                )
                self._drop_uncommitted()
                self.broken = True
            return
        offsets = self.committable()
        self.stats.flushed(commit.commit_batch(self.tables, self.context.producer))
        self._commit_offsets(offsets)

    def _commit_transaction(self) -> None:
        """Exactly-once: one transaction per batch, then the stores, then the next one."""
        if self.broken:
            raise TransactionFailed("the transaction committed before a rebalance failed")
        offsets = self.committable()
        metadata = commit.commit_transaction(
            self.tables, self.context.producer, self.consumer, offsets
        )
        self.stats.flushed(metadata)
        self._forget(offsets)

    async def restart_transaction(self) -> None:
        """After a transaction failed inside a rebalance (:attr:`broken`): start anew."""
        await self._restart_transaction(
            TransactionFailed("the transaction committed before a rebalance failed")
        )

    async def _restart_transaction(self, exc: TransportError) -> None:
        """After a failed transaction (already aborted, its table writes dropped): a new
        transactional producer and transaction, the consumer back at the committed offsets.

        Waits for the broker up to ``broker_wait_timeout``; raises BrokerUnavailable past
        it (a restart then replays the batch, which was never committed).
        """
        self._drop_uncommitted()
        failed = BrokerUnavailable(
            f"{exc}; the transaction was aborted and its batch is processed again from "
            "the committed offsets"
        )
        await self._wait_for_broker(failed, self._reopen)
        self.broken = False
        log.info("a new transaction began; processing resumes from the committed offsets")

    def _drop_uncommitted(self) -> None:
        """Forget what the failed transaction carried: offsets, held events, queued records."""
        self.tables.discard_batch()
        producer = self.context.producer_if_open()
        if producer is not None:
            producer.discard()
        self.dispatcher.drop_held(self.consumer.assignment())
        self.uncommitted.clear()

    def _reopen(self) -> None:
        """A new transactional producer (fencing the old one) and transaction; the consumer
        seeks back to the committed offsets and the stores catch up with their changelogs.
        Raises BrokerUnavailable while the broker is away or not ready yet."""
        try:
            producer = self.context.transactional_producer()
            producer.begin_transaction()
            consumer = self.consumer
            tps = consumer.assignment()
            beginning = consumer.beginning_offsets(tps)
            for tp in tps:
                committed = consumer.committed(tp)
                consumer.seek(tp, beginning[tp] if committed is None else committed)
            # a commit that timed out may have committed on the broker: stores catch up
            self.tables.catch_up()
        except BrokerUnavailable:
            raise
        except TransportError as exc:  # e.g. a broker just restarted and not ready yet
            raise BrokerUnavailable(str(exc)) from exc

    def _commit_offsets(self, offsets: dict[TopicPartition, int]) -> None:
        if not offsets:
            return
        try:
            commit.commit_offsets(self.consumer, offsets)
        except CommitFailed as exc:
            log.warning(
                "%s; the batch stays uncommitted and is processed again by the partitions' "
                "next owner (at-least-once)",
                exc,
            )
            return
        self._forget(offsets)

    def _forget(self, offsets: dict[TopicPartition, int]) -> None:
        uncommitted = self.uncommitted
        self.committed.update(offsets)
        for tp, off in offsets.items():
            if uncommitted.get(tp) == off:
                del uncommitted[tp]

    async def _wait_for_broker(self, exc: BrokerUnavailable, again: Callable[[], T]) -> T:
        self.stats.broker_outages += 1
        return await until_broker_answers(
            again,
            timeout=float(self.context.conf.broker_wait_timeout),
            setting="broker_wait_timeout",
            max_delay=MAX_DELAY,
            failed=exc,
        )

    def wait_for_broker_blocking(self, exc: BrokerUnavailable, again: Callable[[], T]) -> T:
        """``again()`` until the broker answers, blocking up to ``broker_wait_timeout``
        seconds (a rebalance listener's wait, inside ``poll``); its result. Raises
        BrokerUnavailable past the timeout."""
        self.stats.broker_outages += 1
        return until_broker_answers_blocking(
            again,
            timeout=float(self.context.conf.broker_wait_timeout),
            setting="broker_wait_timeout",
            max_delay=MAX_DELAY,
            failed=exc,
        )
