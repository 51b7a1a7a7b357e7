"""Topics: a named, partitioned channel with key and value serdes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from streamctl.errorpolicy import check_on_error
from streamctl.events import Event
from streamctl.exceptions import DecodeError
from streamctl.models.codecs import JSONCodec
from streamctl.models.serde import Serde
from streamctl.settings import Settings
from streamctl.transport.base import Headers, Message, Producer, TopicSpec


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
    def worker_running(self) -> bool: ...

    def repartition_topic(self, source: Topic, name: str) -> Topic: ...


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
    ) -> None:
        self.context = context
        self.name = name
        self.key_type = key_type
        self.value_type = value_type
        if key_serializer is None and key_type in (None, str, bytes):
            key_serializer = "raw"  # Faust's default: keys are bytes (text with key_type=str)
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

    # -- producing ---------------------------------------------------------------------
    def send_soon(
        self,
        *,
        key: Any = None,
        value: Any = None,
        partition: int | None = None,
        headers: Headers | None = None,
        timestamp: int | None = None,
    ) -> None:
        """Queue a record; the worker writes it with the batch's commit (Faust's ``send_soon``)."""
        self.context.producer.send(
            self.name,
            self.key_serde.dumps(key),
            self.value_serde.dumps(value),
            partition=partition,
            headers=headers,
            timestamp=timestamp,
        )

    async def send(
        self,
        *,
        key: Any = None,
        value: Any = None,
        partition: int | None = None,
        headers: Headers | None = None,
        timestamp: int | None = None,
    ) -> None:
        """Send a record. Inside a running worker it commits with the current batch;
        outside one it is written at once."""
        self.send_soon(
            key=key, value=value, partition=partition, headers=headers, timestamp=timestamp
        )
        if not self.context.worker_running:
            self.context.producer.flush()

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
                append(
                    new(
                        Event, (None if k is None else kload(k), None if v is None else vload(v), m)
                    )
                )
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
        codec_dumps = JSONCodec._encode if type(codec) is JSONCodec else codec.dumps

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
        return serde.codec.loads
    return serde.loads
