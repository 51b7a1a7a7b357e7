"""Events: a decoded record plus where it came from; the current one per agent task."""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any, NamedTuple

from streamctl.transport.base import Message


class EventMessage(Message):
    """The message of an event as agents see it: Faust's units.

    ``timestamp`` is float seconds since the epoch, as in Faust's ``Message``
    (``datetime.fromtimestamp(event.message.timestamp)`` works); ``timestamp_ms`` is
    the integer milliseconds the broker stores. Everything else is the broker's
    :class:`~streamctl.transport.base.Message`.
    """

    __slots__ = ()

    @property
    def timestamp(self) -> float:  # type: ignore[override]
        return self[5] / 1000.0

    @property
    def timestamp_type(self) -> int:
        """0: the producer's create time (Kafka's CreateTime), as Faust reports it."""
        return 0


def event_message(m: Message) -> EventMessage:
    """``m`` as an :class:`EventMessage` (the same fields, Faust's timestamp unit)."""
    return m if isinstance(m, EventMessage) else tuple.__new__(EventMessage, m)


class Event(NamedTuple):
    """A decoded record with its source position (``event.message``: topic, partition,
    offset, timestamp in float seconds, headers).

    ``ack()`` and ``async with event:`` exist for Faust code: the worker commits an
    event's offset once its batch is processed (after its table writes and outputs), so
    acknowledging early changes nothing and leaving it un-acked loses nothing.
    """

    key: Any
    value: Any
    message: Message

    @property
    def headers(self) -> Sequence[tuple[str, bytes]]:
        return self.message.headers

    def ack(self) -> bool:
        """Faust's ``event.ack()``: returns True; the worker commits the offset with
        its batch (see the class docstring)."""
        return True

    async def __aenter__(self) -> Event:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.ack()

    def __repr__(self) -> str:
        m = self.message
        return f"<Event {m.topic}[{m.partition}]@{m.offset} key={self.key!r}>"


_current: ContextVar[Event | None] = ContextVar("streamctl_current_event", default=None)


def current_event() -> Event | None:
    """The event the calling agent is processing, or None outside a stream."""
    return _current.get()


def set_current_event(event: Event | None) -> None:
    _current.set(event)
