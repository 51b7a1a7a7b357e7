"""Emit windows to a topic: ``{key, window: {start, end}, value}`` on close or on update.

On close this is Kafka Streams' ``suppress(untilWindowCloses)``: one record per window,
its final value, queued in the same batch as the close mark, so it commits with it
(exactly once with ``processing_guarantee: exactly_once``). Times are ISO 8601 UTC;
``end`` is exclusive (``start + size`` for hopping and tumbling windows), unlike the
Faust range's ``end`` (``start + size - 0.1``).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from streamctl.tables.exceptions import TableError
from streamctl.tables.windows.ranges import Window, WindowRange

EMIT_ON = ("close", "update")


def iso(seconds: float) -> str:
    """Epoch ``seconds`` as ISO 8601 UTC with a ``Z`` (milliseconds only when not whole)."""
    moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
    spec = "seconds" if moment.microsecond == 0 else "milliseconds"
    return moment.isoformat(timespec=spec).replace("+00:00", "Z")


def window_record(window: Window, key: Any, rng: WindowRange, value: Any) -> dict[str, Any]:
    """The emitted record of window ``rng`` of ``key``."""
    start = rng[0]
    end = window.shown_end(rng)
    return {"key": key, "window": {"start": iso(start), "end": iso(end)}, "value": value}


class Emitter:
    """Sends window records to one topic, on ``close`` or on every ``update``."""

    def __init__(self, topic: Any, on: str, window: Window) -> None:
        if on not in EMIT_ON:
            raise TableError(f"emit on must be one of {', '.join(EMIT_ON)}, not {on!r}")
        self.topic = topic
        self.on = on
        self.window = window

    def send(self, key: Any, rng: WindowRange, value: Any) -> None:
        self.topic.send_soon(key=key, value=window_record(self.window, key, rng, value))
