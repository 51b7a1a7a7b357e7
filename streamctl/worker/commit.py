"""The commit order: the one place that says how a batch becomes durable.

Every path that makes table writes and outputs durable goes through here: the run
loop (per ``commit_interval``), a rebalance's revoke, exactly-once transactions,
the table admin commands (``streamctl table set/del``) and the tests. The order is
what makes crash recovery exact:

1. ``state.prepare_commit(producer)``: each table queues its coalesced changelog
   records (outputs were queued by the agents while they processed the batch);
2. ``producer.flush()``: outputs and changelog records are durable on the broker;
   it returns their metadata (topic, partition, offset);
3. ``state.commit(metadata)``: each store commits in one transaction together with
   the highest changelog offset it reflects (where recovery resumes);
4. the source offsets are committed.

A crash before 3 leaves stores behind their changelogs: recovery replays the
difference. A crash between 3 and 4 replays source records: at-least-once.

Exactly-once (a Kafka transaction, or one SQLite transaction on the embedded broker)
puts 1, 2 and 4 into one transaction and moves 3 after it, so a store never holds a
write whose changelog record may yet abort; a crash between the transaction and 3
leaves stores behind their changelogs, and recovery replays the difference.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from streamctl.transport.base import Consumer, Producer, RecordMetadata, TopicPartition


class BatchState(Protocol):
    """What the commit order needs from the tables (one table, or all of an app's)."""

    def prepare_commit(self, producer: Producer) -> int: ...

    def commit(self, metadata: list[RecordMetadata]) -> None: ...

    def discard_batch(self) -> None: ...


def flush(state: BatchState, producer: Producer) -> list[RecordMetadata]:
    """Steps 1 and 2: queue the changelog records and make everything durable.

    Returns the producer's metadata for the records flushed. Raises what the producer
    raises (``BrokerUnavailable`` when the broker is away; the caller may retry
    :func:`flush_again`, which does not queue the changelog twice).
    """
    state.prepare_commit(producer)
    return producer.flush()


def flush_again(producer: Producer) -> list[RecordMetadata]:
    """Step 2 again, after a flush failed with the broker away (records stay queued)."""
    return producer.flush()


def apply(state: BatchState, metadata: list[RecordMetadata]) -> None:
    """Step 3: the stores commit, each with the changelog offset it reflects."""
    state.commit(metadata)


def commit_offsets(consumer: Consumer, offsets: Mapping[TopicPartition, int]) -> None:
    """Step 4: the source offsets (the next offset to read, per partition)."""
    if offsets:
        consumer.commit(dict(offsets))


def commit_batch(
    state: BatchState,
    producer: Producer,
    consumer: Consumer | None = None,
    offsets: Mapping[TopicPartition, int] | None = None,
) -> list[RecordMetadata]:
    """Steps 1-4 without waiting for an absent broker; returns the flush metadata.

    With no consumer (``streamctl table set``, tests), steps 1-3 only.
    """
    metadata = flush(state, producer)
    apply(state, metadata)
    if consumer is not None and offsets:
        commit_offsets(consumer, offsets)
    return metadata


def commit_transaction(
    state: BatchState,
    producer: Producer,
    consumer: Consumer,
    offsets: Mapping[TopicPartition, int],
) -> list[RecordMetadata]:
    """Exactly-once: steps 1, 2 and 4 as one transaction, then 3, then the next one begins.
    Returns the flush metadata.

    On any failure the transaction is aborted and the batch's table writes dropped,
    then the error is raised again (the batch is processed again after a restart).
    """
    try:
        metadata = flush(state, producer)
        producer.commit_transaction(dict(offsets), consumer)
    except BaseException:
        producer.abort_transaction()
        state.discard_batch()
        raise
    # stores only ever hold committed writes (a crash here: recovery replays them)
    apply(state, metadata)
    producer.begin_transaction()
    return metadata
