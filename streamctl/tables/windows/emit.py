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
#: encoded keys an Emitter keeps before it starts over
KEYS_MAX = 100_000


#: ISO text of recent window boundaries (many keys share each window's start and end)
_ISO: dict[float, str] = {}
_ISO_MAX = 4096


def iso(seconds: float) -> str:
    """Epoch ``seconds`` as ISO 8601 UTC with a ``Z`` (milliseconds only when not whole)."""
    text = _ISO.get(seconds)
    if text is None:
        moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
        spec = "seconds" if moment.microsecond == 0 else "milliseconds"
        text = moment.isoformat(timespec=spec).replace("+00:00", "Z")
        if len(_ISO) >= _ISO_MAX:
            _ISO.clear()
        _ISO[seconds] = text
    return text


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

        #: encoded text and integer keys (the same keys come back window after window)
        self._keys: dict[Any, bytes | None] = {}

    def send(self, key: Any, rng: WindowRange, value: Any) -> None:
        """Queue the record of window ``rng`` of ``key`` (Topic.send_soon's encoding,
        with the key's bytes cached)."""
        topic = self.topic
        if not topic.declared:
            topic.declare()
        cls = key.__class__
        if cls is str or cls is int:
            data = self._keys.get(key)
            if data is None:
                if len(self._keys) >= KEYS_MAX:
                    self._keys.clear()
                data = self._keys[key] = topic.key_serde.dumps(key)
        else:
            data = topic.key_serde.dumps(key)
        record = window_record(self.window, key, rng, value)
        topic.context.producer.send(topic.name, data, topic.value_serde.dumps(record))
