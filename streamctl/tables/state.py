"""The partitioned, buffered state of one table: stores, the write buffer, commit.

Each partition this process holds has a store (one file for ``sqlite://``),
opened on first use. Writes go to the :class:`~streamctl.tables.changelog.WriteBuffer`
(coalesced per key) in the partition :class:`~streamctl.tables.placement.Placement`
picks; reads see the buffer over the store. At commit the buffer is sent to the
changelog, and once the producer has flushed, each store applies its partition's
writes in one transaction with the highest changelog offset they produced.

Keys and values are bytes here: the table's codec encoded them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from streamctl.tables.changelog import WriteBuffer
from streamctl.tables.exceptions import StoreCorrupt, TableError, restore_advice
from streamctl.tables.placement import Placement
from streamctl.tables.stores import Store
from streamctl.transport.base import Message, Producer, RecordMetadata, TopicSpec

log = logging.getLogger("streamctl.tables")


class TableState:
    """The stores and buffered writes of one table's partitions in this process.

    ``label`` names the table in errors (``"Table 'counts'"``); ``read_only``
    refuses writes; ``path_for(partition)`` is where a partition's store lives.
    """

    def __init__(
        self,
        placement: Placement,
        *,
        topic: str,
        store_class: type[Store],
        store_url: str,
        path_for: Callable[[int], Path],
        label: str,
        read_only: bool = False,
        restore: str = "",
    ) -> None:
        self.placement = placement
        self.name = placement.table
        #: the changelog topic's name
        self.topic = topic
        self.store_class = store_class
        self.store_url = store_url
        self.path_for = path_for
        self.label = label
        self.read_only = read_only
        #: how to restore the log a store ahead of it goes with (``restore_advice``)
        self.restore = restore or restore_advice("local://")
        self.buffer = WriteBuffer()
        self.stores: dict[int, Store] = {}
        #: partitions this process holds; None: all (no worker said otherwise)
        self.assigned: set[int] | None = None
        #: ``observe(records)``: sees the changelog records a worker replays or follows
        #: (Faust's ``on_changelog_event``); None: nobody
        self.observe: Callable[[list[Message]], None] | None = None

    def changelog_spec(self) -> TopicSpec:
        """The compacted changelog topic to create before recovery."""
        return TopicSpec(self.topic, self.placement.partitions, compacting=True)

    # -- partitions and stores -------------------------------------------------------

    def local(self) -> list[int]:
        """The partitions this process holds, ascending."""
        if self.assigned is None:
            return list(range(self.placement.partitions))
        return sorted(self.assigned)

    def assign(self, partitions: Iterable[int] | None) -> set[int]:
        """Add ``partitions`` (None: all) to those held; return them (all, for a global table)."""
        count = self.placement.partitions
        wanted = set(range(count))
        if partitions is not None and not self.placement.is_global:
            wanted = set(partitions)
            bad = sorted(p for p in wanted if not 0 <= p < count)
            if bad:
                raise TableError(f"table {self.name!r} has no partitions {bad}")
        self.assigned = wanted | (self.assigned or set())
        return wanted

    def release(self, partitions: Iterable[int], *, keep_stores: bool = False) -> None:
        """Stop holding revoked partitions (after their last batch was committed) and close
        their stores; ``keep_stores``: leave them open, as standbys (``tables/standby.py``)."""
        gone = set(partitions)
        if gone & self.buffer.partitions():
            raise TableError(f"table {self.name!r}: uncommitted writes in revoked partitions")
        for p in () if keep_stores else gone:
            store = self.stores.pop(p, None)
            if store is not None:
                store.close()
        if self.assigned is None:
            self.assigned = set(range(self.placement.partitions))
        self.assigned -= gone

    def close_stores(self, partitions: Iterable[int]) -> None:
        """Close the stores of ``partitions`` this process does not hold (standbys let go)."""
        held = set(self.local())
        for p in set(partitions) - held:
            store = self.stores.pop(p, None)
            if store is not None:
                store.close()

    def store(self, partition: int) -> Store:
        """``partition``'s store, opened (or rebuilt, if corrupt) on first use."""
        store = self.stores.get(partition)
        if store is None:
            store = self.stores[partition] = self._open(partition)
        return store

    def _open(self, partition: int) -> Store:
        path = self.path_for(partition)
        try:
            return self.store_class(self.store_url, path)
        except StoreCorrupt as exc:
            log.warning(
                "table %s partition %d: %s; deleting it and rebuilding from the changelog",
                self.name,
                partition,
                exc,
            )
            self.store_class.remove(self.store_url, path)
            return self.store_class(self.store_url, path)

    def next_offset(self, partition: int) -> int:
        """The changelog offset after the last one ``partition``'s store applied."""
        offset = self.store(partition).persisted_offset()
        return 0 if offset is None else offset + 1

    def reached(self, partition: int, position: int) -> None:
        """Record that ``partition``'s store reflects its changelog up to ``position`` (the
        next offset to read), when that is past its last record: a standby read on over
        offsets that carry no data (transaction markers, compacted records)."""
        if position > self.next_offset(partition):
            self.store(partition).apply({}, position - 1)

    # -- reads and writes (encoded keys and values) ----------------------------------

    def get_in(self, partition: int, key: bytes) -> bytes | None:
        """``key``'s value in ``partition``: buffered, else stored, else None."""
        # per event: the buffer's two layers are read here, not through a call each
        buffer = self.buffer
        writes = buffer.pending.get(partition)
        if writes is not None and key in writes:
            value: bytes | None = writes[
                key
            ]  # bytes, None, or a number kept decoded (changelog.py)
            return value if value is None or value.__class__ is bytes else repr(value).encode()
        inflight = buffer.inflight.get(partition)
        if inflight is not None and key in inflight:
            data: bytes | None = inflight[key]  # encoded at send
            return data
        return self.store(partition).get(key)

    def get_many_in(self, partition: int, keys: list[bytes]) -> dict[bytes, Any]:
        """``get_in`` for many keys at once: the buffered ones, then the rest in one
        store query (``Store.get_many``). Keys without a value map to None or are left
        out; a number the buffer keeps decoded (``changelog.py``) is given as it is
        (``changelog.as_bytes`` gives its bytes)."""
        buffer = self.buffer
        out: dict[bytes, Any] = {}
        rest = []
        pending = buffer.pending.get(partition) or {}
        inflight = buffer.inflight.get(partition) or {}
        for key in keys:
            if key in pending:
                out[key] = pending[key]
            elif key in inflight:
                out[key] = inflight[key]
            else:
                rest.append(key)
        if rest:
            out.update(self.store(partition).get_many(rest))
        return out

    def lookup(self, key: bytes) -> bytes | None:
        """``key``'s value in the event's partition, or in any local one outside a stream."""
        partition = self.placement.event_partition()
        if partition is not None:
            return self.get_in(partition, key)
        for partition in self.placement.candidates(key, self.local()):
            value = self.get_in(partition, key)
            if value is not None:
                return value
        return None

    def targets(self, key: bytes) -> list[int]:
        """Partitions a write of ``key`` goes to outside a stream: where the key already
        lives, else its home (where Kafka, or the stream writing the table, puts it)."""
        get_in = self.get_in
        found = [
            p for p in self.placement.candidates(key, self.local()) if get_in(p, key) is not None
        ]
        return found or [self.placement.home(key)]

    def write(self, key: bytes, value: bytes | None) -> None:
        """Buffer a write (None deletes) in the partition it belongs to."""
        if self.read_only:
            raise NotImplementedError(f"{self.label} is read-only")
        partition = self.placement.event_partition()
        if partition is not None:
            self.buffer.put(partition, key, value)
            return
        for p in self.targets(key):
            self.buffer.put(p, key, value)

    def iter_raw(self) -> Iterator[tuple[int, bytes, bytes]]:
        """Every live (partition, key, value), buffer over store, each key once."""
        seen: set[bytes] = set()
        for partition in self.local():
            overlay = self.buffer.overlay(partition)
            for key, value in self.store(partition).items():
                if key not in overlay and key not in seen:
                    seen.add(key)
                    yield partition, key, value
            for key, maybe in overlay.items():
                if maybe is not None and key not in seen:
                    seen.add(key)
                    yield partition, key, maybe

    def clear(self) -> None:
        """Delete every key (one tombstone per key at commit)."""
        if self.read_only:
            raise NotImplementedError(f"{self.label} is read-only")
        for partition, key, _ in list(self.iter_raw()):
            self.buffer.put(partition, key, None)

    # -- commit (see streamctl.worker.commit for the order) ------------------------

    def prepare_commit(self, producer: Producer) -> int:
        """Send this batch's coalesced changelog records; return how many were sent."""
        return self.buffer.send(producer, self.topic)

    def commit(self, metadata: list[RecordMetadata]) -> None:
        """Apply the sent writes to the stores, each with its highest changelog offset."""
        buffer = self.buffer
        high = buffer.high_offsets(self.topic, metadata)
        for partition, writes in buffer.inflight.items():
            if writes:
                self.store(partition).apply(writes, high[partition])
        buffer.inflight = {}

    @property
    def dirty(self) -> bool:
        """True while some writes are not yet in the stores."""
        return bool(self.buffer)

    def discard_batch(self) -> None:
        """Forget buffered and in-flight writes (the batch will be processed again)."""
        self.buffer.discard()

    def close(self) -> None:
        """Close every store; uncommitted writes are dropped (with a warning)."""
        if self.buffer:
            log.warning("table %s: closing with uncommitted writes", self.name)
            self.buffer.discard()
        stores, self.stores = self.stores, {}
        for store in stores.values():
            store.close()
