"""Event time and Faust's time relativity (``_relative_*``) of a windowed table.

Mixed into :class:`~streamctl.tables.windows.table.WindowedTable`: the event time of a
write (the table's time field, else the record timestamp; see ``eventtime``) and the
times ``relative_to_now/stream/field/relative_to`` give (seconds), as Faust's
``faust/tables/base.py`` defines them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from streamctl.events import current_event
from streamctl.tables.windows.clock import NEVER
from streamctl.tables.windows.eventtime import field_time, record_time


class WindowTime:
    """Event time and relativity; needs the table's ``_windows`` (a WindowClock or None)."""

    _windows: Any = None

    # -- time (Faust's _relative_*) ----------------------------------------------------------
    def use_event_time(self, field: Any, unit: str | None = None) -> None:
        """Take event time from ``field`` of the event's value (a name, a model field or a
        callable; datetime, ISO string, epoch s or ms, see ``eventtime``), not the record
        timestamp, for writes through ``_increment`` and ``relative_to_stream``."""
        self._time_of = field_time(field, unit)

    _time_of: Callable[[Any], float] | None = None

    def _event_time(self, event: Any) -> float:
        """The event's time in seconds: its time field, else its record timestamp."""
        if self._time_of is not None:
            return self._time_of(event)
        return record_time(event.message.timestamp_ms)

    def _relative_now(self, event: Any = None) -> float:
        """The event's partition's stream time; outside a stream, the wall clock (Faust)."""
        event = event if event is not None else current_event()
        if event is None or self._windows is None:
            return time.time()
        st = self._windows.stream_time.get(event.message.partition, NEVER)
        return st if st != NEVER else self._event_time(event)

    def _relative_event(self, event: Any = None) -> float:
        event = event if event is not None else current_event()
        if event is None:
            raise RuntimeError("Operation outside of stream iteration")
        return self._event_time(event)

    def _relative_field(self, field: Any) -> Callable[[Any], Any]:
        time_of = field_time(field)

        def to_value(event: Any = None) -> float:
            event = event if event is not None else current_event()
            if event is None:
                raise RuntimeError("Operation outside of stream iteration")
            return time_of(event)

        return to_value

    def _relative_timestamp(self, timestamp: float) -> Callable[[Any], float]:
        def handler(event: Any = None) -> float:
            return timestamp

        return handler
