"""Collection: what every table kind shares, and the interface the worker drives.

A table is partitioned like its source topics. Each partition has a store (one
file for ``sqlite://``) and a changelog partition. Writes are buffered per batch
and coalesced; reads see the buffer. A write lands in the changelog partition of
the event being processed (Faust's co-partitioning rule) or, outside a stream
or with ``use_partitioner=True``, in the partition Kafka's default partitioner
picks for the key bytes.

A Collection is the Faust-facing face over pieces named after their jobs:
``codec`` (key and value bytes), ``placement`` (which partition a key is in),
``state`` (stores per partition, the write buffer, commit) and ``recovery``
(changelog replay and following). The per-event path (``table[k] += x``) calls
the pieces' methods one attribute away (``self._codec.encode_key(k)``): no
wrapper methods, no properties in between. (Bound methods stored on the table
were measured slower on CPython 3.11, whose call sites specialise for methods.)

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

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, ClassVar, Protocol

from streamctl.exceptions import ConfigurationError
from streamctl.tables import recovery
from streamctl.tables.codec import TableCodec
from streamctl.tables.hooks import changelog_events
from streamctl.tables.naming import changelog_topic_name, store_path
from streamctl.tables.placement import Placement
from streamctl.tables.recovery import Progress
from streamctl.tables.state import TableState
from streamctl.tables.stores import DEFAULT, store_class
from streamctl.transport.base import (
    Consumer,
    Message,
    Producer,
    RecordMetadata,
    TopicPartition,
    TopicSpec,
    Transport,
)


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
    """What a table needs from the App (``conf.table_store``, ``conf.topic_partitions``
    and ``conf.reads_last_stable_offset`` are optional)."""

    @property
    def id(self) -> str: ...

    @property
    def conf(self) -> AppConfLike: ...

    def topic(self, name: str, **kwargs: Any) -> TopicLike: ...


class Collection:
    """State shared by Table, GlobalTable and SetTable; not used directly."""

    _read_only: ClassVar[bool] = False
    _is_global: ClassVar[bool] = False
    _codec_class: ClassVar[type[TableCodec]] = TableCodec

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
                f"table {name!r}: only a Table can be windowed, not a {type(self).__name__}"
            )
        self._window = window
        self._help = help
        self.options = kwargs
        codec = self._codec = self._codec_class(
            name, key_type, value_type, key_serializer, value_serializer
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
                key_serializer=codec.key_serde.codec,
                value_serializer=codec.value_serde.codec,
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
        self._store_given = store is not None
        self._store_url: str = store or getattr(app.conf, "table_store", None) or DEFAULT
        placement = self._placement = Placement(
            name,
            self._partitions,
            is_global=self._is_global,
            use_partitioner=use_partitioner,
            decode_key=codec.decode_key,
            partition_bytes=codec.partition_bytes,
        )
        self._state = TableState(
            placement,
            topic=changelog_topic.name,
            store_class=store_class(self._store_url),
            store_url=self._store_url,
            path_for=self.store_path,
            label=f"{type(self).__name__} {name!r}",
            read_only=self._read_only,
        )
        if codec.numbers:  # numbers the buffer kept decoded are remembered as encoded
            self._state.buffer.remember = codec.remember
        self.recovery_batch = 10_000
        hook = kwargs.get("on_changelog_event")
        if hook is not None:  # Faust's: fn(event) per changelog record replayed or followed
            self._state.observe = lambda records: changelog_events(self, hook, records)

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

    def use_store(self, url: str) -> bool:
        """Keep this table in ``url`` instead, while none of its stores is open and it
        was declared without ``store=`` (``app.conf.store = "memory://"`` after the
        tables were declared, as Faust's testing guide does). True if it took effect."""
        if self._store_given or self._state.stores:
            return False
        self._state.store_class = store_class(url)
        self._store_url = self._state.store_url = url
        return True

    @property
    def use_partitioner(self) -> bool:
        """True: keys go where Kafka's partitioner puts them, not the event's partition."""
        return self._placement.use_partitioner

    @use_partitioner.setter
    def use_partitioner(self, value: bool) -> None:
        self._placement.use_partitioner = value

    @property
    def key_partitioner(self) -> Callable[[Any], int] | None:
        """``fn(key) -> partition`` for writes made outside a stream (e.g. ``streamctl table
        set``) of keys not in the table yet: where the stream that writes this table puts
        that key. None: Kafka's default partitioner on the table's own key bytes."""
        return self._placement.key_partitioner

    @key_partitioner.setter
    def key_partitioner(self, fn: Callable[[Any], int] | None) -> None:
        self._placement.key_partitioner = fn

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._name!r} partitions={self._partitions}>"

    def store_path(self, partition: int) -> Path:
        """Where this table keeps ``partition`` (see :func:`naming.store_path`)."""
        return store_path(self.app.conf.datadir, self.app.id, self._name, partition)

    # -- the worker-facing interface ------------------------------------------------

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
        self, transport: Transport, *, replay_log: bool, progress: Progress | None = None
    ) -> dict[int, int]:
        """Open the stores read-only for a reader outside the worker (``streamctl table``).

        With ``replay_log``, changelog records the stores miss are replayed into
        memory, never into the store files. Raises StoreAheadOfLog for a store
        ahead of its changelog. See :func:`streamctl.tables.recovery.read_only`.
        """

        def report(partition: int, done: int, total: int) -> None:
            if progress is not None:
                progress(self, partition, done, total)

        return recovery.read_only(
            self._state, transport, replay_log=replay_log, report=report, batch=self.recovery_batch
        )

    def owns(self, key: Any) -> bool:
        """True when a write of ``key`` outside a stream lands in partitions this process
        holds (where the key lives, else its home: ``TableState.targets``); a global
        table's every key."""
        state = self._state
        local = set(state.local())
        return all(p in local for p in state.targets(self._codec.encode_key(key)))

    def release(self, partitions: Iterable[int]) -> None:
        """Close the stores of revoked partitions (after their last batch was committed)."""
        self._state.release(partitions)

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
