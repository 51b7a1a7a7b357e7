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

The worker-facing interface (the order the worker calls it in) is
:class:`~streamctl.tables.lifecycle.Lifecycle`; what a table needs from its app
is in :mod:`streamctl.tables.applike`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from streamctl.exceptions import ConfigurationError
from streamctl.tables.applike import AppConfLike, AppLike, TopicLike
from streamctl.tables.codec import TableCodec
from streamctl.tables.exceptions import restore_advice
from streamctl.tables.hooks import changelog_events
from streamctl.tables.lifecycle import Lifecycle
from streamctl.tables.naming import changelog_topic_name, store_path
from streamctl.tables.placement import Placement
from streamctl.tables.state import TableState
from streamctl.tables.stores import DEFAULT, store_class
from streamctl.wording import with_article

__all__ = ["AppConfLike", "AppLike", "Collection", "TopicLike"]


class Collection(Lifecycle):
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
                f"table {name!r}: only a Table can be windowed, not {with_article(type(self).__name__)}"
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
            restore=restore_advice(str(getattr(app.conf, "broker", "local://"))),
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
