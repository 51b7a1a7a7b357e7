"""Faust's ``Table(on_changelog_event=fn)``: ``fn(event)`` per changelog record applied."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

from streamctl.events import Event, event_message
from streamctl.transport.base import Message

_pending: set[asyncio.Future[Any]] = set()


def changelog_events(table: Any, hook: Callable[[Event], Any], messages: list[Message]) -> None:
    """Call ``hook`` with each of ``table``'s changelog records (decoded key and value)
    among ``messages``; an async hook runs as a task on the running loop."""
    codec = table._codec
    topic = table.changelog_topic.name
    for m in messages:
        if m.topic != topic:
            continue
        key = None if m.key is None else codec.decode_key(m.key)
        value = None if m.value is None else codec.load_value(m.value)
        out = hook(Event(key, value, event_message(m)))
        if inspect.isawaitable(out):
            task = asyncio.ensure_future(out)
            _pending.add(task)
            task.add_done_callback(_pending.discard)
