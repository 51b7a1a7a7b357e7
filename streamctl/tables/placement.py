"""Which partition of a table a key belongs to: the rule, written once.

Inside a stream a write lands in the partition of the event being processed
(Faust's co-partitioning rule: a table is partitioned like its source topics).
Outside a stream (``streamctl table set``), or when the table opts into
``use_partitioner=True``, a key's *home* is the partition Kafka's default
partitioner picks for the key bytes a topic's default key serializer produces
(``TableCodec.partition_bytes``: text as UTF-8, not as JSON), unless a ``key_partitioner`` says where
the stream that writes the table puts that key. GlobalTables have no event
partition: every worker holds all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from streamctl.events import current_event
from streamctl.exceptions import ConfigurationError
from streamctl.transport.partitioner import partition_for


class Placement:
    """The partition rule of one table (``table`` names it in errors)."""

    __slots__ = (
        "table",
        "partitions",
        "is_global",
        "use_partitioner",
        "key_partitioner",
        "_decode",
        "_partition_bytes",
        "sources",
        "source_key_serde",
    )

    def __init__(
        self,
        table: str,
        partitions: int,
        *,
        is_global: bool,
        use_partitioner: bool,
        decode_key: Callable[[bytes], Any],
        partition_bytes: Callable[[bytes], bytes] | None = None,
    ) -> None:
        self.table = table
        self.partitions = partitions
        self.is_global = is_global
        self.use_partitioner = use_partitioner
        #: ``fn(key) -> partition`` for writes made outside a stream (e.g. ``streamctl table
        #: set``) of keys not in the table yet: where the stream that writes this table puts
        #: that key. None: Kafka's default partitioner on the table's own key bytes.
        self.key_partitioner: Callable[[Any], int] | None = None
        self._decode = decode_key
        self._partition_bytes = partition_bytes
        #: topic name -> partitions declared (None: the app's default), for the topics
        #: whose events write this table (see :meth:`written_from`)
        self.sources: dict[str, int | None] = {}
        #: the key Serde of the topics that write this table, when they all share one
        #: (None: none known, or several that disagree)
        self.source_key_serde: Any = None

    def written_from(self, topic: Any) -> None:
        """Note that events of ``topic`` (a Topic: ``name``, ``partitions``, ``key_serde``)
        write this table: co-partitioning is checked against it, and a key written outside
        a stream goes where ``topic``'s key serializer puts it (#9)."""
        first = not self.sources
        self.sources[topic.name] = topic.partitions
        serde = getattr(topic, "key_serde", None)
        if first:
            self.source_key_serde = serde
        elif not _same_serde(self.source_key_serde, serde):
            self.source_key_serde = None

    def event_partition(self) -> int | None:
        """The partition of the event being processed, or None (outside a stream, global,
        or ``use_partitioner``); ConfigurationError if the table has no such partition."""
        if self.is_global or self.use_partitioner:
            return None
        event = current_event()
        if event is None:
            return None
        partition = event[2].partition  # the broker's message: no copy
        if partition >= self.partitions:
            raise ConfigurationError(
                f"table {self.table!r} has {self.partitions} partitions but is used from "
                f"{event[2].topic}[{partition}]: a table must have as many partitions "
                "as the topics whose events write it (co-partitioning)"
            )
        return partition

    def home(self, key: bytes) -> int:
        """Where a key not in the table yet goes when no event says: where the topic
        that writes the table puts the key's records (#9)."""
        if self.key_partitioner is not None:
            return self.key_partitioner(self._decode(key))
        serde = self.source_key_serde
        if serde is not None:
            try:
                data = serde.dumps(self._decode(key))
            except (TypeError, ValueError):
                data = None  # a key the topic could not carry: the table's own rule
            if data is not None:
                return partition_for(data, self.partitions)
        if self._partition_bytes is not None:
            key = self._partition_bytes(key)
        return partition_for(key, self.partitions)

    def candidates(self, key: bytes, local: list[int]) -> list[int]:
        """Partitions of ``local`` (this process's, ascending) that may hold ``key`` when no
        event says which one does, its home first."""
        home = self.home(key)
        if self.use_partitioner:
            return [home]
        if home in local:
            return [home, *(p for p in local if p != home)]
        return local

    def partition_problem(self, topic: str, partitions: int, *, exists: bool) -> str | None:
        """Why ``topic`` with ``partitions`` cannot write this table, or None."""
        if self.is_global or self.use_partitioner or partitions == self.partitions:
            return None
        has = f"exists with {partitions}" if exists else f"has {partitions}"
        return (
            f"table {self.table!r} has {self.partitions} partition(s) but topic {topic!r}, "
            f"whose events write it, {has}: a table must be partitioned like the topics "
            f"whose events write it (declare the table with partitions={partitions}, or "
            "repartition the stream with group_by)"
        )

    def check_copartitioning(self, source_topic_partitions: int, source: str = "") -> None:
        """Raise ConfigurationError unless a source topic is partitioned like this table."""
        if self.is_global or self.use_partitioner:
            return
        if source_topic_partitions != self.partitions:
            source = f"topic {source!r}" if source else "its source topic"
            raise ConfigurationError(
                f"table {self.table!r} has {self.partitions} partitions but {source} has "
                f"{source_topic_partitions}: a table must be partitioned like the topics "
                f"whose events write it (declare it with partitions={source_topic_partitions}, "
                "or use group_by to repartition the stream)"
            )


def _same_serde(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return False
    return bool(a.type == b.type and a.codec.name == b.codec.name)
