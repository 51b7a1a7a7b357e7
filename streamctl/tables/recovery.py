"""Rebuild table partitions from their changelogs, and follow them while running.

Before a partition's first event is processed, its changelog is replayed from
the offset after the one the store last applied up to the high-water mark
(:func:`recover`). An unreadable store is rebuilt from the first offset. A
store *ahead* of its changelog (it recorded an offset past the log's end: the
broker's log was deleted, emptied or replaced) is refused with StoreAheadOfLog,
by workers and reads alike, and never wiped: either the store or the log is the
one to keep, and only the user knows which. A GlobalTable then keeps reading its
changelog: :func:`follow` assigns a consumer after the stores, and
:func:`apply_changelog` applies what it polls.

Reads outside a worker use :func:`read_only` instead: stores opened read-only,
records they miss replayed into memory (:class:`~streamctl.tables.stores.overlay.Overlay`),
nothing created, changed or deleted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from streamctl.tables.changelog import Writes
from streamctl.tables.exceptions import (
    RecoveryStalled,
    StoreAheadOfLog,
    StoreCorrupt,
    StoreError,
)
from streamctl.tables.state import TableState
from streamctl.tables.stores.base import Store
from streamctl.tables.stores.memory import MemoryStore
from streamctl.tables.stores.overlay import Overlay
from streamctl.transport.base import Consumer, Message, TopicPartition, Transport

log = logging.getLogger("streamctl.tables")

#: ``progress(table, partition, done, total)``, called as records are replayed.
Progress = Callable[[Any, int, int, int], None]


def coalesce(messages: Iterable[Message], after: int | None = None) -> tuple[Writes, int | None]:
    """Last value per key among ``messages`` newer than ``after``, and the last offset."""
    writes: Writes = {}
    last: int | None = None
    for m in messages:
        if m.key is None or (after is not None and m.offset <= after):
            continue
        writes[m.key] = m.value
        if last is None or m.offset > last:
            last = m.offset
    return writes, last


def trusted_start(
    store: Store,
    label: str,
    begin: int,
    end: int,
    *,
    committed_only: bool = False,
    restore: str = "restore the changelog that goes with these stores",
) -> int:
    """The offset to replay from, resetting the store if it cannot be trusted.
    ``restore``: how to get the log back, in the StoreAheadOfLog message
    (``TableState.restore``).

    ``committed_only`` (exactly-once): ``end`` is the last stable offset, which an
    open transaction of a dead worker holds back until Kafka aborts it; stores then
    only hold committed writes, so one ahead of ``end`` is trusted, not rebuilt.
    """
    persisted = store.persisted_offset()
    if persisted is not None and persisted >= end and committed_only:
        log.info(
            "%s: store at changelog offset %d is past the stable end %d", label, persisted, end
        )
    elif persisted is not None and persisted >= end:
        raise StoreAheadOfLog(
            f"{label}: its store {store.path} has applied changelog offset {persisted} but "
            f"the changelog ends before it (next offset {end}): the broker's log was "
            "deleted, emptied or "
            f"replaced after the store was written; {restore}, or move the store files "
            "away to rebuild the table from the log (nothing was changed)"
        )
    elif persisted is None and store.persistent and len(store):
        log.warning("%s: store has data but no changelog offset; rebuilding it", label)
        store.reset()
    return begin if persisted is None else max(persisted + 1, begin)


def replay(
    store: Store,
    consumer: Consumer,
    tp: TopicPartition,
    start: int,
    end: int,
    *,
    report: Callable[[int, int], None],
    batch: int = 10_000,
    poll_timeout: float = 0.1,
    stall_timeout: float = 60.0,
    observe: Callable[[list[Message]], None] | None = None,
) -> int:
    """Apply ``tp``'s records in [start, end) to ``store``; return how many were read.
    ``observe(records)`` sees each polled batch first (``on_changelog_event``)."""
    total = end - start
    report(0, total)
    if total <= 0:
        return 0
    consumer.assign([tp])
    consumer.seek(tp, start)
    position, read = start, 0
    last_progress = time.monotonic()
    while position < end:
        messages = [
            m
            for m in consumer.poll(max_records=batch, timeout=poll_timeout)
            if m.tp == tp and start <= m.offset < end
        ]
        if messages:
            if observe is not None:
                observe(messages)
            writes, last = coalesce(messages)
            store.apply(writes, last)
            read += len(messages)
            position = max(position, messages[-1].offset + 1)
        position = max(position, min(consumer.position(tp), end))
        now = time.monotonic()
        if messages or position >= end:
            last_progress = now
        elif now - last_progress > stall_timeout:
            raise RecoveryStalled(
                f"{tp.topic}[{tp.partition}]: no changelog records for {stall_timeout:.0f}s "
                f"at offset {position} of {end}"
            )
        report(position - start, total)
    return read


def recover(
    state: TableState,
    transport: Transport,
    partitions: Iterable[int] | None,
    *,
    committed_only: bool = False,
    report: Callable[[int, int, int], None] | None = None,
    batch: int = 10_000,
) -> dict[int, int]:
    """Replay the changelog into the stores of ``partitions`` (None: all) and hold them.

    Returns the number of changelog records read per partition; ``report(partition,
    done, total)`` follows the progress. ``committed_only``: see :func:`trusted_start`.
    """
    for p, store in list(state.stores.items()):
        if isinstance(store, Overlay):  # a read's view: writers use the store files
            state.stores.pop(p).close()
    wanted = state.assign(partitions)
    transport.create_topics([state.changelog_spec()])
    tps = {p: TopicPartition(state.topic, p) for p in sorted(wanted)}
    return _replay_all(
        state,
        transport,
        tps,
        state.store,
        exists=True,
        committed_only=committed_only,
        report=report,
        batch=batch,
        observe=state.observe,
    )


def standby_start(
    state: TableState, partition: int, begin: int, end: int, *, committed_only: bool = False
) -> int | None:
    """The offset a standby of ``partition`` follows its changelog from (its store opened
    first), or None, with a warning, for a store ahead of the log (StoreAheadOfLog is
    left to the recovery of that partition, should it become active)."""
    label = f"table {state.name} partition {partition}"
    try:
        return trusted_start(
            state.store(partition),
            label,
            begin,
            end,
            committed_only=committed_only,
            restore=state.restore,
        )
    except StoreAheadOfLog as exc:
        log.warning("%s; not kept as a standby", exc)
        return None


def refuse_stores_without_log(state: TableState) -> None:
    """StoreAheadOfLog if a store of a table whose changelog topic does not exist (yet)
    recorded a changelog offset: its log was deleted. Checked before the topic is
    created, so a refused ``run`` leaves no new, empty log behind. Opens the stores
    read-only; unreadable ones are left to :func:`recover`."""
    for p in range(state.placement.partitions):
        try:
            store = state.store_class.open_read_only(state.store_url, state.path_for(p))
        except StoreError:
            continue
        try:
            trusted_start(store, f"table {state.name} partition {p}", 0, 0, restore=state.restore)
        finally:
            store.close()


def read_only(
    state: TableState,
    transport: Transport,
    *,
    replay_log: bool,
    partitions: Iterable[int] | None = None,
    report: Callable[[int, int, int], None] | None = None,
    batch: int = 10_000,
) -> dict[int, int]:
    """Open the stores of ``partitions`` (None: every partition) read-only; with
    ``replay_log``, catch each up to its changelog's end in memory. Creates, changes and
    deletes nothing; the table then holds those partitions only.

    Returns the records replayed per partition. Raises StoreAheadOfLog (see
    :func:`trusted_start`), also when the changelog topic does not exist (a
    deleted log) but a store recorded an offset. Without ``replay_log`` (a
    worker runs and owns the stores) the stores are read as last committed.
    """
    wanted = state.assign(partitions)
    state.assigned = set(wanted)  # a read of some partitions sees those only
    for p in sorted(wanted):
        old = state.stores.pop(p, None)
        if old is not None:
            old.close()
        path = state.path_for(p)
        try:
            base = state.store_class.open_read_only(state.store_url, path)
        except StoreCorrupt as exc:
            log.warning(
                "table %s partition %d: %s; reading its state from the changelog "
                "(the next worker rebuilds the file)",
                state.name,
                p,
                exc,
            )
            base = MemoryStore(state.store_url, path)
        state.stores[p] = Overlay(base)
    if not replay_log:
        return {}
    tps = {p: TopicPartition(state.topic, p) for p in sorted(wanted)}
    exists = state.topic in transport.list_topics()
    return _replay_all(
        state, transport, tps, state.stores.__getitem__, exists=exists, report=report, batch=batch
    )


def _replay_all(
    state: TableState,
    transport: Transport,
    tps: dict[int, TopicPartition],
    store_of: Callable[[int], Store],
    *,
    exists: bool,
    committed_only: bool = False,
    report: Callable[[int, int, int], None] | None,
    batch: int,
    observe: Callable[[list[Message]], None] | None = None,
) -> dict[int, int]:
    """Replay each changelog partition of ``tps`` into ``store_of(partition)`` from where
    that store can be trusted to its end; the records read per partition. A changelog
    that does not ``exist`` has no records (its stores are checked all the same)."""
    consumer = transport.consumer(None)
    try:
        ends = consumer.end_offsets(tps.values()) if exists else dict.fromkeys(tps.values(), 0)
        begins = consumer.beginning_offsets(tps.values()) if exists else ends
        read: dict[int, int] = {}
        for p, tp in tps.items():
            store = store_of(p)
            label = f"table {state.name} partition {p}"
            start = trusted_start(
                store,
                label,
                begins[tp],
                ends[tp],
                committed_only=committed_only,
                restore=state.restore,
            )

            def progress(done: int, total: int, p: int = p) -> None:
                if report is not None:
                    report(p, done, total)

            read[p] = replay(
                store, consumer, tp, start, ends[tp], report=progress, batch=batch, observe=observe
            )
        return read
    finally:
        consumer.close()


def follow(state: TableState, consumer: Consumer) -> set[TopicPartition]:
    """Assign ``consumer`` (one of its own, no group) to the changelog after the stores."""
    tps = {TopicPartition(state.topic, p) for p in state.local()}
    consumer.assign(consumer.assignment() | tps)
    for tp in tps:
        consumer.seek(tp, state.next_offset(tp.partition))
    return tps


def apply_changelog(state: TableState, messages: Iterable[Message]) -> int:
    """Apply changelog records read while running; ones a store already has are skipped."""
    topic = state.topic
    by_partition: dict[int, list[Message]] = {}
    for m in messages:
        if m.topic == topic:
            by_partition.setdefault(m.partition, []).append(m)
    applied = 0
    for partition, records in by_partition.items():
        store = state.store(partition)
        writes, last = coalesce(records, after=store.persisted_offset())
        if last is not None:
            store.apply(writes, last)
            applied += len(writes)
    return applied
