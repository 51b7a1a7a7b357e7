"""Transports: the small producer/consumer/admin protocol and its implementations."""

from streamctl.transport.base import (
    Consumer,
    Message,
    Producer,
    RecordMetadata,
    TopicPartition,
    TopicSpec,
    Transport,
)
from streamctl.transport.registry import open_transport

__all__ = [
    "Consumer",
    "Message",
    "Producer",
    "RecordMetadata",
    "TopicPartition",
    "TopicSpec",
    "Transport",
    "open_transport",
]
