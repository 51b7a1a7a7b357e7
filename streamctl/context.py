"""The runtime context: what topics, agents, streams and timers need while an app runs.

An :class:`~streamctl.app.App` builds one :class:`Context` and hands it to everything
it declares, instead of itself: the settings, the broker connection (transport and
producer), the topics by name (and the declaring of repartition topics), the tables
by name, whether a worker is running, and the current event. Nothing below the App
imports it; the App object itself is carried as an opaque reference (``context.app``)
only so that Faust's ``topic.app``, ``agent.app``, ``stream.app`` and timer functions
taking an argument still get it.

The context owns the connections: the transport and the producer are opened on first
use and closed by :meth:`Context.close`. A worker running with exactly-once asks for
a transactional producer (:meth:`Context.transactional_producer`), which then is the
producer every topic and agent sends with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from streamctl.events import Event, current_event
from streamctl.exceptions import ConfigurationError
from streamctl.naming import repartition_topic_name
from streamctl.redact import mask_url
from streamctl.settings import Settings
from streamctl.topics import Topic
from streamctl.transport.base import Producer, Transport
from streamctl.transport.registry import open_transport

if TYPE_CHECKING:
    from streamctl.tables import Collection


class Context:
    """Settings, connections and registries one app's runtime objects share."""

    def __init__(self, conf: Settings, *, app: object = None) -> None:
        self.conf = conf
        #: the App this context belongs to, handed back to user code (Faust's ``.app``);
        #: the library never looks inside it
        self.app = app
        self.topics: dict[str, Topic] = {}
        self.tables: dict[str, Collection] = {}
        #: True while a worker runs: sends then commit with its batches
        self.worker_running = False
        self._transport: Transport | None = None
        self._producer: Producer | None = None

    def __repr__(self) -> str:
        return f"<Context {self.conf.id} broker={mask_url(self.conf.broker)}>"

    # -- topics ---------------------------------------------------------------------------
    def topic(self, name: str, **options: Any) -> Topic:
        """Declare (or get) a topic. Declaring one name twice with different partitions is an error."""
        existing = self.topics.get(name)
        if existing is not None:
            wanted = options.get("partitions")
            if wanted is not None and existing.partitions not in (None, wanted):
                raise ConfigurationError(
                    f"topic {name!r} declared with {existing.partitions} and {wanted} partitions"
                )
            if not options:
                return existing
        topic = Topic(self, name, **options)
        self.topics[name] = topic
        return topic

    def repartition_topic(self, source: Topic, name: str, *, key_serializer: Any = None) -> Topic:
        """The internal topic a ``group_by`` on ``source`` writes to (declared on first use).

        Derived from ``source`` as Faust's ``Topic.derive`` does: the same key and value
        types and serializers, so a new text key is written as its UTF-8 bytes with the
        default raw key serializer (``b"ann"``, not JSON ``b'"ann"'``) and read back as
        ``source`` reads its keys. ``key_serializer`` overrides the source's (pipelines
        keep JSON keys, so a number key stays a number).
        """
        topic_name = repartition_topic_name(self.conf.id, source.name, name)
        existing = self.topics.get(topic_name)
        if existing is not None:
            return existing
        return self.topic(
            topic_name,
            key_type=None if key_serializer is not None else source.key_type,
            key_serializer=key_serializer or source.key_serde.codec,
            value_type=source.value_type,
            value_serializer=source.value_serde.codec,
            partitions=source.partitions,
            internal=True,
        )

    # -- the current event -------------------------------------------------------------------
    @staticmethod
    def current_event() -> Event | None:
        """The event the calling agent is processing, or None outside a stream."""
        return current_event()

    # -- connections -----------------------------------------------------------------------
    @property
    def transport(self) -> Transport:
        """The broker connection (opened on first use)."""
        if self._transport is None:
            conf = self.conf
            settings = dict(conf.broker_settings)
            if conf.exactly_once and conf.broker.startswith(("kafka:", "kafka+")):
                # never read records of aborted (or still open) transactions
                settings.setdefault("isolation_level", "read_committed")
            if conf.broker.startswith(("kafka:", "kafka+")):
                # one connection attempt must not outlast broker_start_timeout (kafka-python
                # would wait its own 10 s bootstrap timeout before the first retry)
                start_ms = int(float(conf.broker_start_timeout) * 1000)
                settings.setdefault("bootstrap_timeout_ms", max(1000, min(10_000, start_ms)))
            self._transport = open_transport(conf.broker, datadir=conf.datadir, **settings)
        return self._transport

    @property
    def producer(self) -> Producer:
        """The producer topics and agents send with (opened on first use)."""
        producer = self._producer
        if producer is None:
            producer = self._producer = self.transport.producer()
        return producer

    def producer_if_open(self) -> Producer | None:
        """The producer if one was opened, else None (asking does not open one)."""
        return self._producer

    def transactional_producer(self, transactional_id: str | None = None) -> Producer:
        """Exactly-once: make a transactional producer the producer.

        ``transactional_id``: default ``conf.transactional_id`` (the worker's, stable
        across restarts so a new worker fences its old self). A producer opened before
        is closed first (a plain one writes what it holds). The caller begins, commits
        and aborts the transactions.
        """
        previous = self._producer
        self._producer = None
        if previous is not None:
            previous.close()
        producer = self.transport.producer(
            transactional_id=transactional_id or self.conf.transactional_id
        )
        self._producer = producer
        return producer

    def close(self) -> None:
        """Close the producer (writing what it holds), the tables' stores, then the transport."""
        if self._producer is not None:
            self._producer.close()
            self._producer = None
        for table in self.tables.values():
            table.close()
        if self._transport is not None:
            self._transport.close()
            self._transport = None
