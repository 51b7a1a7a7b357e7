"""Event time in seconds: from a record's timestamp, or from a field of its value.

A field may hold a ``datetime`` (naive ones are taken as UTC), an ISO 8601 string
(``2026-12-07T10:00:00Z``), or epoch seconds or milliseconds as a number. With
``unit=None`` a number is detected: above 10^11 (year 5138 in seconds, 1973 in
milliseconds) it is milliseconds; ``unit="s"`` or ``"ms"`` declares it.

A usable event time lies in ``[0, MAX_TIME)``: from 1970-01-01 up to the end of
8999-12-31 UTC (so a window's start and end are dates Python can show). Anything else (NaN,
infinity, a negative time, 1e20, a string that is no time, a missing field) raises
:class:`EventTimeError`, one line naming the field and the value and saying what is
accepted; the worker parks or stops on it like on any failed event.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from streamctl.tables.exceptions import TableError
from streamctl.wording import with_article

#: a number above this is taken as milliseconds when the unit is not declared
MS_THRESHOLD = 1e11
#: 9000-01-01 UTC in epoch seconds: event times are below it, so that a window's end
#: (at most 100 years later, ``ranges.MAX_SECONDS``) is still a date Python can show
MAX_TIME = 221_845_392_000.0

UNITS = ("s", "ms")

ACCEPTED = (
    "accepted: a datetime, ISO 8601 text, or epoch seconds or milliseconds, "
    "from 1970-01-01 to 8999-12-31 UTC"
)


class EventTimeError(TableError):
    """An event's time is unusable (a missing field, an unreadable or out-of-range value):
    the message names the field and value and says what is accepted."""


def unusable(source: str, value: Any, problem: str) -> EventTimeError:
    """The error for ``value`` read from ``source`` (``"event time field 'ts'"``)."""
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return EventTimeError(f"{source} is {shown}, {problem}; {ACCEPTED}")


def to_seconds(value: Any, unit: str | None = None, source: str = "event time") -> float:
    """``value`` (datetime, ISO string, epoch s or ms) as epoch seconds in ``[0,
    MAX_TIME)``; EventTimeError (naming ``source``) if it is not a usable time."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        seconds = float(value.timestamp())
    elif isinstance(value, str):
        text = value.strip()
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                raise unusable(
                    source, value, "neither an ISO 8601 date-time nor a number"
                ) from None
            return _number(number, unit, source, value)
        return to_seconds(moment, unit, source)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        return _number(value, unit, source, value)
    else:
        raise unusable(source, value, f"{with_article(type(value).__name__)}, not a time")
    return checked(seconds, source, value)


def _number(number: float, unit: str | None, source: str, shown: Any) -> float:
    if unit == "ms" or (unit is None and abs(number) > MS_THRESHOLD):
        return checked(float(number) / 1000.0, source, shown)
    return checked(float(number), source, shown)


def checked(seconds: float, source: str, shown: Any = None) -> float:
    """``seconds`` if a usable event time, else EventTimeError (``shown``: the value as
    the event held it, default ``seconds``)."""
    if 0.0 <= seconds < MAX_TIME:  # False for NaN too
        return seconds
    shown = seconds if shown is None else shown
    if seconds != seconds:
        problem = "not a number"
    elif seconds < 0:
        problem = "before 1970"
    elif seconds == float("inf"):
        problem = "infinite"
    else:
        problem = "after 8999-12-31"
    raise unusable(source, shown, problem)


def record_time(timestamp_ms: float) -> float:
    """A record's timestamp (milliseconds) as event time in seconds; EventTimeError if it
    is unusable (Kafka's -1 for a record without one, say)."""
    seconds = timestamp_ms / 1000.0
    if 0.0 <= seconds < MAX_TIME:
        return seconds
    return checked(seconds, "the record timestamp (milliseconds)", timestamp_ms)


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
                    raise missing(name)
                return value[name]
            try:
                return getattr(value, name)
            except AttributeError:
                raise missing(name) from None

        return get
    if callable(field):
        return field  # type: ignore[no-any-return]
    raise TableError(f"cannot read event time from {field!r}")


def missing(name: str) -> EventTimeError:
    return EventTimeError(f"the event has no event time field {name!r}; {ACCEPTED}")


def field_time(field: Any, unit: str | None = None) -> Callable[[Any], float]:
    """A function of an event giving its time in seconds from ``field`` of its value (see
    :func:`field_getter`); EventTimeError naming the field when it is unusable."""
    get = field_getter(field)
    name = getattr(field, "field", None) or getattr(field, "name", None) or field
    source = f"event time field {name!r}" if isinstance(name, str) else "event time"

    def time_of(event: Any) -> float:
        return to_seconds(get(event.value), unit, source)

    return time_of
