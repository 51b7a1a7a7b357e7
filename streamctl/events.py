"""Events: a decoded record plus where it came from; the current one per agent task."""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any

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


try:  # the C descriptor namedtuple fields use; a property elsewhere
    from _collections import _tuplegetter
except ImportError:  # pragma: no cover - not CPython
    from operator import itemgetter

    def _tuplegetter(index: int, doc: str) -> Any:
        return property(itemgetter(index), doc=doc)


class Event(tuple[Any, Any, Message]):
    """A decoded record with its source position (``event.message``: topic, partition,
    offset, timestamp in float seconds, headers).

    A tuple of (key, value, the broker's Message). ``event.message`` gives that message
    as an :class:`EventMessage` in Faust's units, made when it is read (the worker
    builds an event per record and most are never asked: the engine reads
    ``event[2]``, whose timestamp is milliseconds); equal messages, not one object.

    ``ack()`` and ``async with event:`` exist for Faust code: the worker commits an
    event's offset once its batch is processed (after its table writes and outputs), so
    acknowledging early changes nothing and leaving it un-acked loses nothing.
    """

    __slots__ = ()
    _fields = ("key", "value", "message")

    def __new__(cls, key: Any, value: Any, message: Message) -> Event:
        return tuple.__new__(cls, (key, value, message))

    def __getnewargs__(self) -> tuple[Any, ...]:
        return tuple(self)

    def _replace(self, **changes: Any) -> Event:
        """A copy with ``key``, ``value`` or ``message`` replaced (as a namedtuple's)."""
        unknown = set(changes) - set(self._fields)
        if unknown:
            raise ValueError(f"Got unexpected field names: {sorted(unknown)!r}")
        key, value, message = self
        return Event(
            changes.get("key", key), changes.get("value", value), changes.get("message", message)
        )

    key: Any = _tuplegetter(0, "The record's key, decoded.")
    value: Any = _tuplegetter(1, "The record's value, decoded.")

    @property
    def message(self) -> EventMessage:
        """The record's message in Faust's units (see the class docstring)."""
        return event_message(self[2])

    @property
    def headers(self) -> Sequence[tuple[str, bytes]]:
        return self[2].headers

    def ack(self) -> bool:
        """Faust's ``event.ack()``: returns True; the worker commits the offset with
        its batch (see the class docstring)."""
        return True

    async def __aenter__(self) -> Event:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.ack()

    def __repr__(self) -> str:
        m = self[2]
        return f"<Event {m.topic}[{m.partition}]@{m.offset} key={self[0]!r}>"


_current: ContextVar[Event | None] = ContextVar("streamctl_current_event", default=None)


def current_event() -> Event | None:
    """The event the calling agent is processing, or None outside a stream."""
    return _current.get()


def set_current_event(event: Event | None) -> None:
    _current.set(event)
