"""Event time in seconds: from a record's timestamp, or from a field of its value.

A field may hold a ``datetime`` (naive ones are taken as UTC), an ISO 8601 string
(``2026-12-07T10:00:00Z``), or epoch seconds or milliseconds as a number. With
``unit=None`` a number is detected: above 10^11 (year 5138 in seconds, 1973 in
milliseconds) it is milliseconds; ``unit="s"`` or ``"ms"`` declares it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from streamctl.tables.exceptions import TableError

#: a number above this is taken as milliseconds when the unit is not declared
MS_THRESHOLD = 1e11

UNITS = ("s", "ms")


class EventTimeError(TableError):
    """An event's time could not be read (a missing field, an unreadable value)."""


def to_seconds(value: Any, unit: str | None = None) -> float:
    """``value`` (datetime, ISO string, epoch s or ms) as epoch seconds; EventTimeError if not."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return float(value.timestamp())
    if isinstance(value, str):
        text = value.strip()
        try:
            return to_seconds(datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                raise EventTimeError(
                    f"event time {value!r} is neither an ISO 8601 date-time nor a number"
                ) from None
            return to_seconds(number, unit)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if unit == "ms" or (unit is None and abs(value) > MS_THRESHOLD):
            return float(value) / 1000.0
        return float(value)
    raise EventTimeError(f"event time {value!r} ({type(value).__name__}) is not a time")


def field_getter(field: Any) -> Callable[[Any], Any]:
    """A function reading ``field`` from an event's value: a field name (``"created"``,
    looked up as a key or attribute), a model field descriptor (``Model.created``) or a
    callable of the value."""
    name = getattr(field, "field", None) or getattr(field, "name", None)
    if isinstance(field, str):
        name = field
    if isinstance(name, str):

        def get(value: Any) -> Any:
            if isinstance(value, dict):
                if name not in value:
                    raise EventTimeError(f"the event has no time field {name!r}")
                return value[name]
            try:
                return getattr(value, name)
            except AttributeError:
                raise EventTimeError(f"the event has no time field {name!r}") from None

        return get
    if callable(field):
        return field  # type: ignore[no-any-return]
    raise TableError(f"cannot read event time from {field!r}")
