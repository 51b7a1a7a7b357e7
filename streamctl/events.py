"""Events: a decoded record plus where it came from; the current one per agent task."""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any, NamedTuple

from streamctl.transport.base import Message


class Event(NamedTuple):
    """A decoded record with its source position (``event.message``: topic, partition, offset, ...)."""

    key: Any
    value: Any
    message: Message

    @property
    def headers(self) -> Sequence[tuple[str, bytes]]:
        return self.message.headers

    def __repr__(self) -> str:
        m = self.message
        return f"<Event {m.topic}[{m.partition}]@{m.offset} key={self.key!r}>"


_current: ContextVar[Event | None] = ContextVar("streamctl_current_event", default=None)


def current_event() -> Event | None:
    """The event the calling agent is processing, or None outside a stream."""
    return _current.get()


def set_current_event(event: Event | None) -> None:
    _current.set(event)
