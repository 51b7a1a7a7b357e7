"""Topics: a named, partitioned channel with key and value serdes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from streamctl.events import Event
from streamctl.models.serde import Serde
from streamctl.transport.base import Headers, TopicSpec

if TYPE_CHECKING:
    from streamctl.app import App


class Topic:
    """A Kafka-style topic as an app declares it (Faust's ``app.topic``)."""

    def __init__(
        self,
        app: App,
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
    ) -> None:
        self.app = app
        self.name = name
        self.key_type = key_type
        self.value_type = value_type
        self.key_serde = Serde(key_type, key_serializer)
        self.value_serde = Serde(value_type, value_serializer)
        self.partitions = partitions
        self.compacting = compacting
        self.internal = internal
        self.dead_letter = dead_letter.name if isinstance(dead_letter, Topic) else dead_letter
        self.config = dict(config or {})

    def __repr__(self) -> str:
        return f"<Topic {self.name} partitions={self.partitions}>"

    def spec(self) -> TopicSpec:
        return TopicSpec(
            self.name,
            self.partitions or self.app.conf.topic_partitions,
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
        self.app.producer.send(
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
        if not self.app.worker_running:
            self.app.producer.flush()

    def decode(self, message: Any) -> Event:
        """Turn a transport message into an Event (raises DecodeError)."""
        return Event(
            self.key_serde.loads(message.key) if message.key is not None else None,
            self.value_serde.loads(message.value) if message.value is not None else None,
            message,
        )
