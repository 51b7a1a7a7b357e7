"""The write buffer of one table: coalesced per batch, then sent to the changelog.

Like Kafka Streams' record cache, only the last value written to a key in a
batch reaches the changelog and the store. Values are kept encoded (None is a
deletion, a tombstone in the changelog), except the finite ints and floats a
table's ``count``/``sum`` fast path keeps decoded in ``pending`` (see
``TableMapping._incrementer``): their JSON is their ``repr``, written once per key
when the batch is sent instead of once per event. :func:`as_bytes` gives any
buffered value as bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from streamctl.events import _current
from streamctl.tables.exceptions import TableError
from streamctl.transport.base import Producer, RecordMetadata

#: key -> bytes, None (a deletion) or, in ``pending`` only, a number kept decoded
Writes = dict[bytes, Any]

#: the event being processed (bound once: the undo log calls it per write)
_event = _current.get
#: in an undo entry: the key had no pending write before
_ABSENT: Any = object()
#: per write, four items in a row: the partition's pending writes, the key, the pending
#: value before (or _ABSENT), the event that wrote
UndoLog = list[Any]


class WriteBuffer:
    """Pending writes (this batch) and in-flight writes (sent, not yet in the store).

    Reads through the buffer (:meth:`TableState.get_in`) look at ``pending`` then
    ``inflight`` directly: they run once per event.
    """

    __slots__ = ("pending", "inflight", "remember")

    #: the undo log of every table's pending writes while a worker processes a batch
    #: (None outside a worker: nothing is recorded); see :func:`savepoints` and
    #: :func:`rollback_event`. One list for all tables, so one event's writes to
    #: several tables roll back together.
    undo: ClassVar[UndoLog | None] = None

    def __init__(self) -> None:
        self.pending: dict[int, Writes] = {}
        self.inflight: dict[int, Writes] = {}
        #: ``remember(data, number)`` as a number kept decoded is encoded at send (the
        #: table codec's memo, so reading it back skips the decoder); None: nothing
        self.remember: Callable[[bytes, Any], None] | None = None

    def put(self, partition: int, key: bytes, value: bytes | None) -> None:
        writes = self.pending.get(partition)
        if writes is None:
            writes = self.pending[partition] = {}
        undo = WriteBuffer.undo
        if undo is not None:
            # flat, four items per write: the batch's entries are not GC-tracked tuples
            undo += (writes, key, writes.get(key, _ABSENT), _event())
        writes[key] = value

    def overlay(self, partition: int) -> Writes:
        """Everything buffered for a partition, newest value per key."""
        merged = dict(self.inflight.get(partition, {}))
        for key, value in self.pending.get(partition, {}).items():
            merged[key] = as_bytes(value)
        return merged

    def partitions(self) -> set[int]:
        return {p for layer in (self.pending, self.inflight) for p, w in layer.items() if w}

    def __bool__(self) -> bool:
        return any(self.pending.values()) or any(self.inflight.values())

    def send(self, producer: Producer, topic: str) -> int:
        """Send the pending writes, one ``send_many`` per changelog partition (the
        partition of the events that wrote them); they become in-flight."""
        if any(self.inflight.values()):
            raise TableError(f"{topic}: prepare_commit() called again before commit()")
        self.inflight, self.pending = self.pending, {}
        sent = 0
        send_many = producer.send_many
        remember = self.remember
        for partition, writes in self.inflight.items():
            if writes:
                for key, value in writes.items():
                    if value is not None and value.__class__ is not bytes:
                        data = writes[key] = repr(value).encode()  # a number kept decoded
                        if remember is not None:
                            remember(data, value)
                send_many(topic, list(writes), list(writes.values()), partition=partition)
                sent += len(writes)
        return sent

    def high_offsets(self, topic: str, metadata: Iterable[RecordMetadata]) -> dict[int, int]:
        """The highest changelog offset per partition among ``metadata`` for ``topic``."""
        high: dict[int, int] = {}
        for md in metadata:
            if md.topic == topic and md.offset > high.get(md.partition, -1):
                high[md.partition] = md.offset
        missing = sorted(p for p, w in self.inflight.items() if w and p not in high)
        if missing:
            raise TableError(
                f"{topic}: no record metadata for partitions {missing}; pass commit() "
                "the list that producer.flush() returned"
            )
        return high

    def discard(self) -> None:
        self.pending = {}
        self.inflight = {}


def as_bytes(value: Any) -> bytes | None:
    """A buffered value as bytes: a number kept decoded is its JSON, its ``repr``."""
    return value if value is None or value.__class__ is bytes else repr(value).encode()


def savepoints(on: bool) -> None:
    """Start (or, with False, stop) recording an undo entry per table write: the worker
    turns it on per batch, so a failing event's writes can be rolled back."""
    WriteBuffer.undo = [] if on else None


def remember(mapping: dict[Any, Any], key: Any) -> None:
    """Record ``mapping[key]`` as it is now in the undo log, so that rolling back the
    current event restores it (or removes the key): for state besides table writes that
    an event changes, such as a windowed table's stream time. Nothing outside a batch."""
    undo = WriteBuffer.undo
    if undo is not None:
        undo += (mapping, key, mapping.get(key, _ABSENT), _event())


def rollback_event(event: Any) -> int:
    """Undo the pending table writes ``event`` made in this batch (newest first), as if
    it never ran: a savepoint per event. Returns how many writes were undone."""
    undo = WriteBuffer.undo
    if not undo:
        return 0
    undone = 0
    keep: UndoLog = []
    for i in range(len(undo) - 4, -1, -4):
        writes, key, before, owner = undo[i : i + 4]
        if owner is not event:
            keep += (owner, before, key, writes)  # reversed below
            continue
        if before is _ABSENT:
            writes.pop(key, None)
        else:
            writes[key] = before
        undone += 1
    keep.reverse()
    undo[:] = keep
    return undone
