"""When the worker commits, and what: the source offsets it processed, with the tables.

The order of a commit is ``commit.py``'s; this module decides when one happens and
which offsets it carries. Commits happen every ``commit_interval`` seconds, when the
input goes idle and before stopping (:meth:`Committer.commit`, which waits for an
absent broker up to ``broker_wait_timeout``), and on a rebalance, before partitions
go (:meth:`Committer.commit_now`, which cannot wait: it runs inside ``poll``).

The offsets committed are the next offset to read per partition, never past an event
a stream still holds back (``take``): such an event is processed by whoever reads the
partition next. With exactly-once every commit is one Kafka transaction.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from streamctl.context import Context
from streamctl.tables.manager import TableManager
from streamctl.transport.base import Consumer, Message, TopicPartition
from streamctl.transport.exceptions import BrokerUnavailable, CommitFailed
from streamctl.worker import commit
from streamctl.worker.dispatch import Dispatcher
from streamctl.worker.retry import until_broker_answers

log = logging.getLogger("streamctl.worker")

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
        self.exactly_once = context.conf.exactly_once
        self.last_commit = time.monotonic()
        #: per partition, the offset after the last record processed (not committed yet)
        self.uncommitted: dict[TopicPartition, int] = {}

    # -- what there is to commit -------------------------------------------------------------
    def note(self, messages: list[Message]) -> None:
        """The batch ``messages`` was processed: their partitions move past them."""
        last = {(m.topic, m.partition): m.offset for m in messages}
        uncommitted = self.uncommitted
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

    def committable(self) -> dict[TopicPartition, int]:
        """The offsets to commit: processed ones, held back before any held event."""
        offsets = dict(self.uncommitted)
        for event in self.dispatcher.held():
            m = event.message
            tp = TopicPartition(m.topic, m.partition)
            if tp in offsets and offsets[tp] > m.offset:
                offsets[tp] = m.offset
        return offsets

    # -- committing ----------------------------------------------------------------------------
    async def commit(self) -> None:
        """Commit, waiting for the broker (up to broker_wait_timeout) when it is away."""
        self.last_commit = time.monotonic()
        if self.exactly_once:
            self._commit_transaction()
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
        try:
            self._commit_offsets(offsets)
        except BrokerUnavailable as exc:
            await self._wait_for_broker(exc, lambda: self._commit_offsets(offsets))

    def commit_now(self) -> None:
        """Commit without waiting for the broker (from a rebalance listener)."""
        self.last_commit = time.monotonic()
        if self.exactly_once:
            self._commit_transaction()
            return
        offsets = self.committable()
        commit.commit_batch(self.tables, self.context.producer)
        self._commit_offsets(offsets)

    def _commit_transaction(self) -> None:
        """Exactly-once: one Kafka transaction per batch, then the stores, then the next one."""
        offsets = self.committable()
        commit.commit_transaction(self.tables, self.context.producer, self.consumer, offsets)
        self._forget(offsets)

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
        for tp, off in offsets.items():
            if uncommitted.get(tp) == off:
                del uncommitted[tp]

    async def _wait_for_broker(self, exc: BrokerUnavailable, again: Callable[[], T]) -> T:
        return await until_broker_answers(
            again,
            timeout=float(self.context.conf.broker_wait_timeout),
            setting="broker_wait_timeout",
            max_delay=MAX_DELAY,
            failed=exc,
        )
