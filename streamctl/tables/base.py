"""Collection: what every table kind shares, and the interface the worker drives.

A table is partitioned like its source topics. Each partition has a store (one
file for ``sqlite://``) and a changelog partition. Writes are buffered per batch
and coalesced; reads see the buffer. A write lands in the changelog partition of
the event being processed (Faust's co-partitioning rule) or, outside a stream
or with ``use_partitioner=True``, in the partition Kafka's default partitioner
picks for the key bytes.

The worker calls, for every table, in this order (the order is what makes
crash recovery exact):

1. ``check_copartitioning(n, source=topic)`` for each source topic, at start-up;
   ``transport.create_topics([table.changelog_spec(), ...])``.
2. ``recover(transport, partitions, progress=...)`` before the first event of
   those partitions is processed (on assignment); ``release(partitions)`` after
   they are revoked and committed.
3. Per batch: run the agents (tables buffer their writes); then
   ``prepare_commit(producer)`` for every table (sends the coalesced changelog
   records); ``metadata = producer.flush()``; ``commit(metadata)`` for every
   table (one store transaction per partition: data plus the highest changelog
   offset); only then commit the source offsets.
   A crash before ``commit`` leaves stores behind their changelogs: recovery
   replays the difference. A crash after it, before the source offsets are
   committed, replays source records: at-least-once, as documented.
   If a batch fails before ``prepare_commit``, ``discard_batch()`` drops its writes.
4. GlobalTables only: ``follow(consumer)`` once after ``recover`` (or assign the
   changelog partitions and seek each to ``next_offset(p)``), then
   ``apply_changelog(records)`` with what that consumer polls.
   ``dirty`` tells whether a table has writes not yet in its stores.
5. ``close()`` at shutdown.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

from streamctl.events import current_event
from streamctl.exceptions import ConfigurationError
from streamctl.models.serde import Serde
from streamctl.tables.changelog import MISSING, WriteBuffer
from streamctl.tables.exceptions import StoreCorrupt, TableError
from streamctl.tables.naming import changelog_topic_name, store_path
from streamctl.tables.recovery import Progress, coalesce, replay, trusted_start
from streamctl.tables.stores import DEFAULT, Store, store_class
from streamctl.transport.base import (
    Consumer,
    Message,
    Producer,
    RecordMetadata,
    TopicPartition,
    TopicSpec,
    Transport,
)
from streamctl.transport.partitioner import partition_for

log = logging.getLogger("streamctl.tables")


class TopicLike(Protocol):
    """What a table needs from a topic object."""

    @property
    def name(self) -> str: ...

    @property
    def partitions(self) -> int | None: ...


class AppConfLike(Protocol):
    @property
    def datadir(self) -> Path: ...


class AppLike(Protocol):
    """What a table needs from the App (``conf.table_store`` is optional)."""

    @property
    def id(self) -> str: ...

    @property
    def conf(self) -> AppConfLike: ...

    def topic(self, name: str, **kwargs: Any) -> TopicLike: ...


_CACHE_MAX = 100_000


def _finite(x: float) -> bool:
    return x - x == 0  # False for inf and nan


def _freeze(obj: Any) -> Any:
    """JSON gives lists back for tuples; keys and set members must be hashable."""
    if isinstance(obj, list):
        return tuple(_freeze(x) for x in obj)
    return obj


class Collection:
    """State shared by Table, GlobalTable and SetTable; not used directly."""

    _read_only = False
    _is_global = False

    def __init__(
        self,
        app: AppLike,
        *,
        name: str,
        default: Callable[[], Any] | None = None,
        key_type: Any = None,
        value_type: Any = None,
        partitions: int | None = None,
        window: Any = None,
        changelog_topic: TopicLike | None = None,
        help: str | None = None,
        store: str | None = None,
        key_serializer: Any = None,
        value_serializer: Any = None,
        use_partitioner: bool = False,
        **kwargs: Any,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"a table needs a non-empty name, not {name!r}")
        if default is not None and not callable(default):
            raise ConfigurationError(
                f"table {name!r}: default must be a callable such as int or list, not {default!r}"
            )
        if partitions is not None and partitions < 1:
            raise ConfigurationError(f"table {name!r}: partitions must be >= 1")
        self.app = app
        self._name = name
        self._default = default
        self._key_type = key_type
        self._value_type = value_type
        if window is not None:
            # refused rather than ignored: a window that silently did nothing would
            # aggregate across all time while looking windowed
            raise ConfigurationError(
                f"table {name!r}: windowed tables (window=...) are not implemented yet"
            )
        self._window = window
        self._help = help
        self.use_partitioner = use_partitioner
        self.options = kwargs
        self._key_serde = Serde(key_type, key_serializer)
        self._value_serde = Serde(value_type, value_serializer)
        self._key_cache: dict[tuple[type, Any], bytes] = {}
        #: encoded number -> number, for values written by this process (see _dump_value)
        self._memo: dict[bytes, Any] = {}
        json_values = self._value_serde.codec.name == "json"
        self._memo_types: tuple[type, ...] = (
            ((int, float) if value_type is None else (value_type,))
            if json_values and value_type in (None, int, float)
            else ()
        )
        if changelog_topic is None:
            # the changelog carries the table's own key and value encoding, so that
            # records sent to it (streamctl send -p PIPELINE) are what the table reads
            changelog_topic = app.topic(
                changelog_topic_name(app.id, name),
                partitions=partitions,
                compacting=True,
                internal=True,
                key_type=key_type,
                key_serializer=self._key_serde.codec,
                value_serializer=self._value_serde.codec,
            )
        self._changelog_topic = changelog_topic
        topic_partitions = changelog_topic.partitions
        if partitions is not None and topic_partitions not in (None, partitions):
            raise ConfigurationError(
                f"table {name!r} has partitions={partitions} but its changelog topic "
                f"{changelog_topic.name!r} has {topic_partitions}"
            )
        # A topic declared without a count gets the app's default when created.
        app_default = getattr(app.conf, "topic_partitions", None)
        self._partitions: int = partitions or topic_partitions or app_default or 1
        self._store_url: str = store or getattr(app.conf, "table_store", None) or DEFAULT
        self._store_cls: type[Store] = store_class(self._store_url)
        self._stores: dict[int, Store] = {}
        self._assigned: set[int] | None = None  # None: all (no worker said otherwise)
        self._buffer = WriteBuffer()
        self.recovery_batch = 10_000
        #: ``fn(key) -> partition`` for writes made outside a stream (e.g. ``streamctl table
        #: set``) of keys not in the table yet: where the stream that writes this table puts
        #: that key. None: Kafka's default partitioner on the table's own key bytes.
        self.key_partitioner: Callable[[Any], int] | None = None

    # -- properties (the spec) -------------------------------------------------

    @property
    def name(self) -> str:
        return self._name

    @property
    def default(self) -> Callable[[], Any] | None:
        return self._default

    @property
    def key_type(self) -> Any:
        return self._key_type

    @property
    def value_type(self) -> Any:
        return self._value_type

    @property
    def changelog_topic(self) -> TopicLike:
        return self._changelog_topic

    @property
    def help(self) -> str | None:
        return self._help

    @property
    def partitions(self) -> int:
        return self._partitions

    @property
    def window(self) -> Any:
        return self._window

    @property
    def is_global(self) -> bool:
        return self._is_global

    @property
    def store_url(self) -> str:
        return self._store_url

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._name!r} partitions={self._partitions}>"

    # -- encoding --------------------------------------------------------------

    def _encode_key(self, key: Any) -> bytes:
        # hot path: the same keys come back batch after batch; text and numbers are cached
        cls = key.__class__
        if cls is str or cls is int:
            cache = self._key_cache
            data = cache.get((cls, key))
            if data is None:
                data = self._key_serde.dumps(key)
                assert data is not None
                if len(cache) >= _CACHE_MAX:
                    cache.clear()
                cache[(cls, key)] = data
            return data
        if key is None:
            raise TypeError(f"table {self._name!r}: keys cannot be None")
        data = self._key_serde.dumps(key)
        assert data is not None
        return data

    def _decode_key(self, data: bytes) -> Any:
        key = self._key_serde.loads(data)
        return _freeze(key) if self._key_type is None else key

    def _dump_value(self, value: Any) -> bytes:
        cls = value.__class__
        if cls in self._memo_types and _finite(value):
            # a number's JSON is its repr; remember it so reading it back in this batch
            # (``table[k] += x`` on a hot key) skips the JSON decoder
            data = repr(value).encode()
            memo = self._memo
            if len(memo) >= _CACHE_MAX:
                memo.clear()
            memo[data] = value
            return data
        if value is None:
            if self._value_serde.codec.name != "json":
                raise TypeError(f"table {self._name!r}: cannot store None; delete the key")
            return b"null"
        encoded = self._value_serde.dumps(value)
        assert encoded is not None
        data = encoded
        return data

    def _load_value(self, data: bytes) -> Any:
        value = self._memo.get(data)
        if value is not None:
            return value
        if data == b"null" and self._value_serde.codec.name == "json":
            return None
        return self._value_serde.loads(data)

    # -- partitions and stores ---------------------------------------------------

    def _local(self) -> list[int]:
        if self._assigned is None:
            return list(range(self._partitions))
        return sorted(self._assigned)

    def _event_partition(self) -> int | None:
        if self._is_global or self.use_partitioner:
            return None
        event = current_event()
        if event is None:
            return None
        partition = event.message.partition
        if partition >= self._partitions:
            raise ConfigurationError(
                f"table {self._name!r} has {self._partitions} partitions but is used from "
                f"{event.message.topic}[{partition}]: a table must have as many partitions "
                "as the topics whose events write it (co-partitioning)"
            )
        return partition

    def _home(self, key: bytes) -> int:
        if self.key_partitioner is not None:
            return self.key_partitioner(self._decode_key(key))
        return partition_for(key, self._partitions)

    def _candidates(self, key: bytes) -> list[int]:
        """Partitions that may hold ``key`` when no event says which one does."""
        home = self._home(key)
        if self.use_partitioner:
            return [home]
        local = self._local()
        if home in local:
            local.remove(home)
            local.insert(0, home)
        return local

    def _store(self, partition: int) -> Store:
        store = self._stores.get(partition)
        if store is None:
            store = self._stores[partition] = self._open_store(partition)
        return store

    def store_path(self, partition: int) -> Path:
        """Where this table keeps ``partition`` (see :func:`naming.store_path`)."""
        return store_path(self.app.conf.datadir, self.app.id, self._name, partition)

    def _open_store(self, partition: int) -> Store:
        path = self.store_path(partition)
        try:
            return self._store_cls(self._store_url, path)
        except StoreCorrupt as exc:
            log.warning(
                "table %s partition %d: %s; deleting it and rebuilding from the changelog",
                self._name,
                partition,
                exc,
            )
            self._store_cls.remove(self._store_url, path)
            return self._store_cls(self._store_url, path)

    # -- raw reads and writes (encoded keys and values) --------------------------

    def _get_in(self, partition: int, key: bytes) -> bytes | None:
        buffered = self._buffer.lookup(partition, key)
        if buffered is not MISSING:
            return buffered  # type: ignore[return-value]
        return self._store(partition).get(key)

    def _lookup(self, key: bytes) -> bytes | None:
        partition = self._event_partition()
        if partition is not None:
            return self._get_in(partition, key)
        for partition in self._candidates(key):
            value = self._get_in(partition, key)
            if value is not None:
                return value
        return None

    def _write(self, key: bytes, value: bytes | None) -> None:
        """Buffer a write (None deletes) in the partition it belongs to."""
        if self._read_only:
            raise NotImplementedError(f"{type(self).__name__} {self._name!r} is read-only")
        partition = self._event_partition()
        if partition is not None:
            targets = [partition]
        else:
            # Outside a stream: where the key already lives, else where Kafka would put it.
            targets = [p for p in self._candidates(key) if self._get_in(p, key) is not None]
            targets = targets or [self._home(key)]
        for p in targets:
            self._buffer.put(p, key, value)

    def _iter_raw(self) -> Iterator[tuple[int, bytes, bytes]]:
        """Every live (partition, key, value), buffer over store, each key once."""
        seen: set[bytes] = set()
        for partition in self._local():
            overlay = self._buffer.overlay(partition)
            for key, value in self._store(partition).items():
                if key not in overlay and key not in seen:
                    seen.add(key)
                    yield partition, key, value
            for key, maybe in overlay.items():
                if maybe is not None and key not in seen:
                    seen.add(key)
                    yield partition, key, maybe

    def _clear(self) -> None:
        if self._read_only:
            raise NotImplementedError(f"{type(self).__name__} {self._name!r} is read-only")
        for partition, key, _ in list(self._iter_raw()):
            self._buffer.put(partition, key, None)

    # -- the worker-facing interface ------------------------------------------------

    def changelog_spec(self) -> TopicSpec:
        """The compacted changelog topic to create before recovery."""
        return TopicSpec(self._changelog_topic.name, self._partitions, compacting=True)

    def check_copartitioning(self, source_topic_partitions: int, source: str = "") -> None:
        """Raise ConfigurationError unless a source topic is partitioned like this table."""
        if self._is_global or self.use_partitioner:
            return
        if source_topic_partitions != self._partitions:
            source = f"topic {source!r}" if source else "its source topic"
            raise ConfigurationError(
                f"table {self._name!r} has {self._partitions} partitions but {source} has "
                f"{source_topic_partitions}: a table must be partitioned like the topics "
                f"whose events write it (declare it with partitions={source_topic_partitions}, "
                "or use group_by to repartition the stream)"
            )

    def recover(
        self,
        transport: Transport,
        partitions: Iterable[int] | None = None,
        *,
        progress: Progress | None = None,
    ) -> dict[int, int]:
        """Replay the changelog into the stores of ``partitions`` (None: all).

        Returns the number of changelog records read per partition. Stores
        whose file is missing, unreadable, or ahead of the changelog are
        rebuilt from the first offset (with a warning for the last two).
        """
        wanted = set(range(self._partitions))
        if partitions is not None and not self._is_global:
            wanted = set(partitions)
            bad = sorted(p for p in wanted if not 0 <= p < self._partitions)
            if bad:
                raise TableError(f"table {self._name!r} has no partitions {bad}")
        self._assigned = wanted | (self._assigned or set())
        topic = self._changelog_topic.name
        transport.create_topics([self.changelog_spec()])
        tps = {p: TopicPartition(topic, p) for p in sorted(wanted)}
        committed_only = bool(getattr(self.app.conf, "exactly_once", False))
        consumer = transport.consumer(None)
        try:
            ends = consumer.end_offsets(tps.values())
            begins = consumer.beginning_offsets(tps.values())
            read: dict[int, int] = {}
            for p, tp in tps.items():
                store = self._store(p)
                label = f"table {self._name} partition {p}"
                start = trusted_start(
                    store, label, begins[tp], ends[tp], committed_only=committed_only
                )

                def report(done: int, total: int, p: int = p) -> None:
                    if progress is not None:
                        progress(self, p, done, total)

                read[p] = replay(
                    store, consumer, tp, start, ends[tp], report=report, batch=self.recovery_batch
                )
            return read
        finally:
            consumer.close()

    def release(self, partitions: Iterable[int]) -> None:
        """Close the stores of revoked partitions (after their last batch was committed)."""
        gone = set(partitions)
        if gone & self._buffer.partitions():
            raise TableError(f"table {self._name!r}: uncommitted writes in revoked partitions")
        for p in gone:
            store = self._stores.pop(p, None)
            if store is not None:
                store.close()
        if self._assigned is None:
            self._assigned = set(range(self._partitions))
        self._assigned -= gone

    def prepare_commit(self, producer: Producer) -> int:
        """Send this batch's coalesced changelog records; return how many were sent."""
        return self._buffer.send(producer, self._changelog_topic.name)

    def commit(self, metadata: list[RecordMetadata]) -> None:
        """Apply the sent writes to the stores, each with its highest changelog offset."""
        inflight = self._buffer.inflight
        high = self._buffer.high_offsets(self._changelog_topic.name, metadata)
        for partition, writes in inflight.items():
            if writes:
                self._store(partition).apply(writes, high[partition])
        self._buffer.inflight = {}

    @property
    def dirty(self) -> bool:
        """True while some writes are not yet in the stores."""
        return bool(self._buffer)

    def next_offset(self, partition: int) -> int:
        """The changelog offset after the last one ``partition``'s store applied."""
        offset = self._store(partition).persisted_offset()
        return 0 if offset is None else offset + 1

    def discard_batch(self) -> None:
        """Forget buffered and in-flight writes (the batch will be processed again)."""
        self._buffer.discard()

    def follow(self, consumer: Consumer) -> set[TopicPartition]:
        """Assign ``consumer`` (one of its own, no group) to the changelog after the stores."""
        topic = self._changelog_topic.name
        tps = {TopicPartition(topic, p) for p in self._local()}
        consumer.assign(consumer.assignment() | tps)
        for tp in tps:
            consumer.seek(tp, self.next_offset(tp.partition))
        return tps

    def apply_changelog(self, messages: Iterable[Message]) -> int:
        """Apply changelog records read while running; older ones are skipped."""
        topic = self._changelog_topic.name
        by_partition: dict[int, list[Message]] = {}
        for m in messages:
            if m.topic == topic:
                by_partition.setdefault(m.partition, []).append(m)
        applied = 0
        for partition, batch in by_partition.items():
            store = self._store(partition)
            writes, last = coalesce(batch, after=store.persisted_offset())
            if last is not None:
                store.apply(writes, last)
                applied += len(writes)
        return applied

    def close(self) -> None:
        """Close every store; uncommitted writes are dropped (with a warning)."""
        if self._buffer:
            log.warning("table %s: closing with uncommitted writes", self._name)
            self._buffer.discard()
        stores, self._stores = self._stores, {}
        for store in stores.values():
            store.close()
