"""Topics: a named, partitioned channel with key and value serdes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Protocol

from streamctl.errorpolicy import check_on_error
from streamctl.events import Event, EventMessage
from streamctl.exceptions import ConfigurationError, DecodeError
from streamctl.models.codecs import JSONCodec
from streamctl.models.registry import BLESSED_KEY
from streamctl.models.serde import Serde, revive
from streamctl.settings import Settings
from streamctl.transport.base import (
    Headers,
    Message,
    Producer,
    RecordMetadata,
    TopicSpec,
    Transport,
)


class TopicContext(Protocol):
    """What a topic and its streams use at run time: a :class:`streamctl.context.Context`.

    (Written out here because the context declares topics: it imports this module.)
    """

    @property
    def app(self) -> object: ...

    @property
    def conf(self) -> Settings: ...

    @property
    def producer(self) -> Producer: ...

    @property
    def transport(self) -> Transport: ...

    @property
    def worker_running(self) -> bool: ...

    def repartition_topic(
        self, source: Topic, name: str, *, key_serializer: Any = None
    ) -> Topic: ...


class Topic:
    """A Kafka-style topic as an app declares it (Faust's ``app.topic``)."""

    def __init__(
        self,
        context: TopicContext,
        name: str,
        *,
        key_type: Any = None,
        value_type: Any = None,
        key_serializer: Any = None,
        value_serializer: Any = None,
        partitions: int | None = None,
        compacting: bool = False,
        internal: bool = False,
        dead_letter: str | Topic | None = None,
        config: dict[str, str] | None = None,
        on_error: str | None = None,
        retention: float | timedelta | None = None,
        replicas: int | None = None,
        acks: bool = True,
        maxsize: int | None = None,
        allow_empty: bool = False,
    ) -> None:
        """``retention`` (seconds or a timedelta) sets the topic's ``retention.ms``;
        ``replicas``, ``acks``, ``maxsize`` and ``allow_empty`` are Faust's and accepted
        for ported code: replication is the broker's default, every send is
        acknowledged, streams are fed per batch, and a None value is always delivered."""
        self.context = context
        self.name = name
        self.key_type = key_type
        self.value_type = value_type
        conf = context.conf
        if key_serializer is None and conf.key_serializer is not None:
            key_serializer = conf.key_serializer  # Faust's app-wide key_serializer
        model_codec = getattr(getattr(value_type, "_options", None), "serializer", None)
        if value_serializer is None and model_codec is None:
            value_serializer = conf.value_serializer  # Faust's app-wide value_serializer
        if key_serializer is None and key_type in (None, str, bytes):
            key_serializer = "raw"  # Faust's default: keys are bytes (text with key_type=str)
        self.replicas = replicas
        self.acks = acks
        self.maxsize = maxsize
        self.allow_empty = allow_empty
        #: True once this process made sure the broker has the topic (see :meth:`declare`)
        self.declared = False
        self.key_serde = Serde(key_type, key_serializer)
        self.value_serde = Serde(value_type, value_serializer)
        #: bytes -> key / value, skipping the generic Serde path where the codec decides
        self.key_loader = _loader(self.key_serde)
        self.value_loader = _loader(self.value_serde)
        self.partitions = partitions
        self.compacting = compacting
        self.internal = internal
        self.dead_letter = dead_letter.name if isinstance(dead_letter, Topic) else dead_letter
        check_on_error(on_error, self.dead_letter, f"topic {name!r}")
        #: what the worker does with a record that does not decode: stop, skip or
        #: dead_letter (None: dead_letter when the topic or an agent reading it has a
        #: dead-letter topic, else stop)
        self.on_error = on_error
        self.config = dict(config or {})
        if retention is not None:
            seconds = retention.total_seconds() if isinstance(retention, timedelta) else retention
            self.config.setdefault("retention.ms", str(int(float(seconds) * 1000)))

    def __repr__(self) -> str:
        return f"<Topic {self.name} partitions={self.partitions}>"

    @property
    def app(self) -> Any:
        """The App that declared this topic (Faust's ``topic.app``)."""
        return self.context.app

    def spec(self) -> TopicSpec:
        return TopicSpec(
            self.name,
            self.partitions or self.context.conf.topic_partitions,
            self.compacting,
            self.config,
        )

    # -- declaring -------------------------------------------------------------------------
    def declare(self) -> None:
        """Create the topic on the broker with its declared partitions if it is not there
        (Faust's ``topic.declare()``; Kafka's auto-create does it for a Faust producer).

        A topic that exists keeps its partition count; raises ConfigurationError when
        this declaration names another count (another app declared it differently).
        """
        spec = self.spec()
        transport = self.context.transport
        existing = transport.list_topics().get(self.name)
        if existing is None:
            transport.create_topics([spec])
        else:
            self.check_existing(existing.partitions)
        self.declared = True

    def check_existing(self, partitions: int | None) -> None:
        """Raise ConfigurationError when the broker has this topic (``partitions``; None:
        not there) with another count than this app declares with ``partitions=``.

        Faust and Kafka Streams refuse such co-partitioning mismatches: keys would land
        in other partitions than the app's tables expect. A topic declared without
        ``partitions=`` takes the count the broker has (an external source topic).
        """
        if partitions is not None and self.partitions is not None and partitions != self.partitions:
            raise ConfigurationError(
                f"topic {self.name!r} exists with {partitions} partition(s) but "
                f"this app declares {self.partitions}: use the same count (or delete the "
                f"topic with 'streamctl topic delete {self.name}')"
            )

    async def maybe_declare(self) -> None:
        """:meth:`declare` once per process (Faust's ``topic.maybe_declare()``)."""
        if not self.declared:
            self.declare()

    # -- producing ---------------------------------------------------------------------
    def send_soon(
        self,
        *,
        key: Any = None,
        value: Any = None,
        partition: int | None = None,
        headers: Headers | None = None,
        timestamp: float | None = None,
        key_serializer: Any = None,
        value_serializer: Any = None,
    ) -> None:
        """Queue a record; the worker writes it with the batch's commit (Faust's
        ``send_soon``). ``timestamp``: float seconds since the epoch (Faust's unit;
        default now). The topic is created on first use (:meth:`declare`)."""
        if not self.declared:
            self.declare()
        ks = self.key_serde if key_serializer is None else Serde(self.key_type, key_serializer)
        vs = (
            self.value_serde
            if value_serializer is None
            else Serde(self.value_type, value_serializer)
        )
        self.context.producer.send(
            self.name,
            ks.dumps(key),
            vs.dumps(value),
            partition=partition,
            headers=headers,
            timestamp=None if timestamp is None else round(float(timestamp) * 1000),
        )

    async def send(
        self,
        *,
        key: Any = None,
        value: Any = None,
        partition: int | None = None,
        headers: Headers | None = None,
        timestamp: float | None = None,
        key_serializer: Any = None,
        value_serializer: Any = None,
        callback: Callable[[asyncio.Future[RecordMetadata]], Any] | None = None,
        force: bool = False,
    ) -> asyncio.Future[RecordMetadata]:
        """Send a record; returns a future of its RecordMetadata, as Faust does
        (``await (await topic.send(...))``). ``timestamp``: float seconds.

        Outside a worker the record is written at once and the future holds where it
        landed. Inside a running worker it commits with the current batch (which waits
        for the agent): the future is done at once and its metadata has offset -1
        (not written yet), so awaiting it never deadlocks the agent. ``callback(fut)``
        is called once the future is done; ``force`` is accepted for Faust code.
        """
        self.send_soon(
            key=key,
            value=value,
            partition=partition,
            headers=headers,
            timestamp=timestamp,
            key_serializer=key_serializer,
            value_serializer=value_serializer,
        )
        if self.context.worker_running:
            meta = RecordMetadata(self.name, -1 if partition is None else partition, -1)
        else:
            meta = self.context.producer.flush()[-1]
        fut: asyncio.Future[RecordMetadata] = asyncio.get_running_loop().create_future()
        fut.set_result(meta)
        if callback is not None:
            callback(fut)
        return fut

    def decode(
        self, messages: list[Message]
    ) -> tuple[list[Event], list[tuple[Message, DecodeError]]]:
        """Events for the messages that decode, and (message, error) for those that do not.

        Runs once per record: the loaders are the quickest correct ones for the serdes.
        """
        kload, vload = self.key_loader, self.value_loader
        if kload is _utf8:
            kload = bytes.decode  # UTF-8, strict: no frame of ours per key (errors below)
        events: list[Event] = []
        append = events.append
        new = tuple.__new__
        bad: list[tuple[Message, DecodeError]] = []
        for m in messages:
            k, v = m[3], m[4]  # key, value
            try:
                key = None if k is None else kload(k)
                append(new(Event, (key, None if v is None else vload(v), new(EventMessage, m))))
            except DecodeError as exc:
                bad.append((m, exc))
            except UnicodeDecodeError:
                if k is None:
                    raise
                try:  # the key (values' loaders raise DecodeError): worded as _utf8 does
                    _utf8(k)
                except DecodeError as err:
                    bad.append((m, err))
                else:
                    raise
        return events, bad


def dumper(serde: Serde) -> Callable[[Any], bytes | None]:
    """value -> bytes, skipping the Serde layer where the codec alone decides (plain JSON)."""
    if serde.type is None and serde.codec.name == "json":
        # the JSON codec's own encoder function, not its method: one frame less per value
        codec = serde.codec
        if type(codec) is JSONCodec:
            # None and bytes pass through inside it: one frame per value in all
            encode: Callable[[Any], bytes | None] = JSONCodec._encode_values
            return encode
        codec_dumps = codec.dumps

        def dumps(obj: Any) -> bytes | None:
            if obj is None:
                return None
            if obj.__class__ is bytes:
                return obj  # already encoded
            return codec_dumps(obj)

        return dumps
    return serde.dumps


def _utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError(f"expected UTF-8 text: {exc}") from None


def _identity(data: bytes) -> bytes:
    return data


def _loader(serde: Serde) -> Callable[[bytes], Any]:
    """Skip the generic Serde path where the codec alone decides the result."""
    if serde.codec.name == "raw":
        if serde.type is None or serde.type is bytes:
            return _identity
        if serde.type is str:
            return _utf8
    if serde.type is None:
        codec_loads = serde.codec.loads
        if serde.codec.name != "json":
            return codec_loads
        # the JSON codec's decoder function, not its method: one frame less per record;
        # what it refuses goes through the method, which words the DecodeError
        decode = JSONCodec._decode if type(serde.codec) is JSONCodec else codec_loads

        def load_json(data: bytes) -> Any:
            try:
                obj = decode(data)
            except (ValueError, TypeError, RecursionError):
                obj = codec_loads(data)  # raises DecodeError
            if obj.__class__ is dict and BLESSED_KEY in obj:
                return revive(obj)  # a registered Record sent untyped (as Faust: only
            return obj  # at the top; Records nested in a value stay dicts, as there)

        return load_json
    return serde.loads
