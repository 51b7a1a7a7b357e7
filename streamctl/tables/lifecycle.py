"""The interface the worker drives on every table: recovery, release, commit, following.

The worker calls, for every table, in this order (the order is what makes
crash recovery exact):

1. ``check_copartitioning(n, source=topic)`` for each source topic, at start-up;
   ``transport.create_topics([table.changelog_spec(), ...])``.
2. ``recover(transport, partitions, progress=...)`` before the first event of
   those partitions is processed (on assignment); ``release(partitions)`` after
   they are revoked and committed.
3. Per batch, the commit order written in ``streamctl.worker.commit``: the agents
   run (tables buffer their writes), ``prepare_commit(producer)`` sends each
   table's coalesced changelog records, the producer flushes, ``commit(metadata)``
   applies them to the stores (one transaction per partition, with the highest
   changelog offset), then the source offsets are committed. ``discard_batch()``
   drops the writes of a batch that failed before its changelog was flushed.
4. GlobalTables only: ``follow(consumer)`` once after ``recover`` (or assign the
   changelog partitions and seek each to ``next_offset(p)``), then
   ``apply_changelog(records)`` with what that consumer polls.
   ``dirty`` tells whether a table has writes not yet in its stores.
5. ``close()`` at shutdown.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from streamctl.tables import recovery
from streamctl.tables.applike import AppLike
from streamctl.tables.codec import TableCodec
from streamctl.tables.placement import Placement
from streamctl.tables.recovery import Progress
from streamctl.tables.state import TableState
from streamctl.transport.base import (
    Consumer,
    Message,
    Producer,
    RecordMetadata,
    TopicPartition,
    TopicSpec,
    Transport,
)


class Lifecycle:
    """The worker-facing half of :class:`~streamctl.tables.base.Collection` (a mixin over
    the pieces ``Collection.__init__`` builds)."""

    app: AppLike
    recovery_batch: int
    _codec: TableCodec
    _placement: Placement
    _state: TableState

    def changelog_spec(self) -> TopicSpec:
        """The compacted changelog topic to create before recovery."""
        return self._state.changelog_spec()

    def check_copartitioning(self, source_topic_partitions: int, source: str = "") -> None:
        """Raise ConfigurationError unless a source topic is partitioned like this table."""
        self._placement.check_copartitioning(source_topic_partitions, source)

    def written_from(self, topic: Any) -> None:
        """Note that events of ``topic`` write this table (a step pipeline knows it; for a
        Python agent, the App finds the tables its function names). Co-partitioning is
        checked against those topics before anything is created, and keys written outside
        a stream go where ``topic``'s key serializer puts them (#9)."""
        self._placement.written_from(topic)

    def partition_problem(self, topic: str, partitions: int, *, exists: bool) -> str | None:
        """Why ``topic`` with ``partitions`` (``exists``: on the broker already) cannot
        write this table, or None."""
        return self._placement.partition_problem(topic, partitions, exists=exists)

    @property
    def source_key_codec(self) -> str | None:
        """The codec name (``"raw"``, ``"json"``, ...) of the key serializer shared by the
        topics known to write this table, or None when none is known or they differ:
        the form a key of this table takes on its way in."""
        serde = self._placement.source_key_serde
        return None if serde is None else str(serde.codec.name)

    @property
    def sources(self) -> dict[str, int | None]:
        """Topic name -> declared partitions of the topics known to write this table."""
        return dict(self._placement.sources)

    def recover(
        self,
        transport: Transport,
        partitions: Iterable[int] | None = None,
        *,
        progress: Progress | None = None,
    ) -> dict[int, int]:
        """Replay the changelog into the stores of ``partitions`` (None: all).

        Returns the number of changelog records read per partition. Stores
        whose file is missing or unreadable are rebuilt from the first offset
        (with a warning for the latter); a store ahead of its changelog raises
        StoreAheadOfLog (see :mod:`streamctl.tables.recovery`).
        """

        def report(partition: int, done: int, total: int) -> None:
            if progress is not None:
                progress(self, partition, done, total)

        return recovery.recover(
            self._state,
            transport,
            partitions,
            committed_only=bool(getattr(self.app.conf, "reads_last_stable_offset", False)),
            report=report,
            batch=self.recovery_batch,
        )

    def refuse_stores_without_log(self) -> None:
        """Raise StoreAheadOfLog if a store recorded a changelog offset while the changelog
        topic is missing (call before creating it): its log was deleted or replaced."""
        recovery.refuse_stores_without_log(self._state)

    def read_only(
        self,
        transport: Transport,
        *,
        replay_log: bool,
        partitions: Iterable[int] | None = None,
        progress: Progress | None = None,
    ) -> dict[int, int]:
        """Open the stores of ``partitions`` (None: all) read-only for a reader outside the
        worker (``streamctl table``); the table then holds those partitions only.

        With ``replay_log``, changelog records the stores miss are replayed into
        memory, never into the store files. Raises StoreAheadOfLog for a store
        ahead of its changelog. See :func:`streamctl.tables.recovery.read_only`.
        """

        def report(partition: int, done: int, total: int) -> None:
            if progress is not None:
                progress(self, partition, done, total)

        return recovery.read_only(
            self._state,
            transport,
            replay_log=replay_log,
            partitions=partitions,
            report=report,
            batch=self.recovery_batch,
        )

    @property
    def held(self) -> list[int]:
        """The partitions this process holds, ascending (all, for a global table)."""
        return self._state.local()

    def owns(self, key: Any) -> bool:
        """True when a write of ``key`` outside a stream lands in partitions this process
        holds (where the key lives, else its home: ``TableState.targets``); a global
        table's every key."""
        state = self._state
        local = set(state.local())
        return all(p in local for p in state.targets(self._codec.encode_key(key)))

    def release(self, partitions: Iterable[int], *, keep_stores: bool = False) -> None:
        """Stop holding revoked partitions (after their last batch was committed) and close
        their stores; ``keep_stores``: keep them open, as standbys (``tables/standby.py``)."""
        self._state.release(partitions, keep_stores=keep_stores)

    # -- standby replicas (tables/standby.py) -----------------------------------------------
    @property
    def changelog_name(self) -> str:
        """The changelog topic's name."""
        return self._state.topic

    def standby_start(self, partition: int, begin: int, end: int) -> int | None:
        """Open ``partition``'s store as a standby (it is not held: no reads or writes see
        it) and return the changelog offset to follow it from, given the changelog's
        ``begin`` and ``end`` offsets; None if the store is ahead of its changelog (it is
        left alone, for the recovery that refuses it). An untrusted store is reset, as a
        recovery would (:func:`~streamctl.tables.recovery.trusted_start`)."""
        return recovery.standby_start(
            self._state,
            partition,
            begin,
            end,
            committed_only=bool(getattr(self.app.conf, "reads_last_stable_offset", False)),
        )

    def standby_reached(self, partition: int, position: int) -> None:
        """A standby of ``partition`` stops following its changelog at ``position`` (its
        consumer's next offset): its store records that it reflects the log up to there,
        so the recovery that follows starts at ``position`` (not before a transaction
        marker the standby had read past)."""
        self._state.reached(partition, position)

    def close_standbys(self, partitions: Iterable[int]) -> None:
        """Close the stores of ``partitions`` that are not held (standbys let go)."""
        self._state.close_stores(partitions)

    def prepare_commit(self, producer: Producer) -> int:
        """Send this batch's coalesced changelog records; return how many were sent."""
        return self._state.prepare_commit(producer)

    def commit(self, metadata: list[RecordMetadata]) -> None:
        """Apply the sent writes to the stores, each with its highest changelog offset."""
        self._state.commit(metadata)

    @property
    def dirty(self) -> bool:
        """True while some writes are not yet in the stores."""
        return self._state.dirty

    def next_offset(self, partition: int) -> int:
        """The changelog offset after the last one ``partition``'s store applied."""
        return self._state.next_offset(partition)

    def discard_batch(self) -> None:
        """Forget buffered and in-flight writes (the batch will be processed again)."""
        self._state.discard_batch()

    def follow(self, consumer: Consumer) -> set[TopicPartition]:
        """Assign ``consumer`` (one of its own, no group) to the changelog after the stores."""
        return recovery.follow(self._state, consumer)

    def apply_changelog(self, messages: Iterable[Message]) -> int:
        """Apply changelog records read while running; older ones are skipped. A
        ``Table(on_changelog_event=fn)`` gets each as an Event (Faust's hook)."""
        observe = self._state.observe
        if observe is not None:
            messages = list(messages)
            observe(messages)
        return recovery.apply_changelog(self._state, messages)

    def send_to_changelog(self, producer: Producer, key: Any, value: Any) -> None:
        """Send ``key = value`` (None: a tombstone) straight to the changelog.

        How a GlobalTable is changed (its changelog is its input): the record goes
        to the partitions a write outside a stream would use (where the key is,
        else its home). The stores see it once the changelog is applied
        (``recover`` or ``apply_changelog``); ``producer.flush()`` is the caller's.
        """
        encoded = self._codec.encode_key(key)
        data = None if value is None else self._codec.dump_value(value)
        topic = self._state.topic
        for partition in self._state.targets(encoded):
            producer.send(topic, encoded, data, partition=partition)

    def close(self) -> None:
        """Close every store; uncommitted writes are dropped (with a warning)."""
        self._state.close()
