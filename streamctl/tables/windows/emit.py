"""Emit windows to a topic: ``{key, window: {start, end}, value}`` on close or on update.

On close this is Kafka Streams' ``suppress(untilWindowCloses)``: one record per window,
its final value, queued in the same batch as the close mark, so it commits with it
(exactly once with ``processing_guarantee: exactly_once``). Times are ISO 8601 UTC;
``end`` is exclusive (``start + size`` for hopping and tumbling windows), unlike the
Faust range's ``end`` (``start + size - 0.1``).
"""

from __future__ import annotations

from datetime import datetime, timezone
from itertools import count
from typing import Any

from streamctl.models.codecs import JSONCodec
from streamctl.tables.changelog import remember
from streamctl.tables.exceptions import TableError
from streamctl.tables.windows.ranges import Window, WindowRange

EMIT_ON = ("close", "update")
#: encoded keys and window ranges an Emitter keeps before it starts over
KEYS_MAX = 100_000
RANGES_MAX = 4096


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


def record_timestamp(window: Window, rng: WindowRange) -> int:
    """The Kafka timestamp (milliseconds) of window ``rng``'s emitted record: the latest
    time the window holds, its end minus 1 ms where the end is exclusive (hopping and
    tumbling), its end otherwise (sliding and session windows: the session's last event)."""
    end = window.shown_end(rng)
    ms = round(end * 1000)
    return ms if window.inclusive_end else ms - 1


class Emitter:
    """Sends window records to one topic, on ``close`` or on every ``update``.

    :meth:`send` queues the record and :meth:`flush` (the end of each punctuation, after
    every batch) hands them to the producer in one ``send_many``; on update a record is
    taken back when its event fails (the undo log), as the event's table writes are. A topic of plain JSON values gets each record's
    bytes built from the cached JSON of its key and of its window's times (many keys share
    a window, and each key comes back window after window), byte for byte what encoding
    ``window_record`` gives.
    """

    def __init__(self, topic: Any, on: str, window: Window) -> None:
        if on not in EMIT_ON:
            raise TableError(f"emit on must be one of {', '.join(EMIT_ON)}, not {on!r}")
        self.topic = topic
        self.on = on
        self.window = window
        #: text and integer keys -> (the record key's bytes, the record's JSON up to its
        #: window), kept as the same keys come back window after window
        self._keys: dict[Any, tuple[bytes | None, bytes]] = {}
        #: window range -> (its JSON up to the value, the record timestamp in ms)
        self._ranges: dict[WindowRange, tuple[bytes, int]] = {}
        #: records queued for :meth:`flush`: keys, values, timestamps (ms)
        self._queue: tuple[list[bytes | None], list[bytes | None], list[int]] = ([], [], [])
        #: on update: records of this batch's events, by send order (an entry in the undo
        #: log each, so a failed event's records go with its table writes)
        self._updates: dict[int, tuple[bytes | None, bytes | None, int]] = {}
        self._order = count()
        serde = topic.value_serde
        self._json = serde.type is None and type(serde.codec) is JSONCodec

    def send(self, key: Any, rng: WindowRange, value: Any) -> None:
        """Queue the record of window ``rng`` of ``key`` (Topic.send_soon's encoding)."""
        topic = self.topic
        if not topic.declared:
            topic.declare()
        cls = key.__class__
        cached = self._keys.get(key) if cls is str or cls is int else None
        if cached is None:
            try:
                data = topic.key_serde.dumps(key)
            except (TypeError, ValueError) as exc:  # no event to blame: one line, no traceback
                raise TableError(
                    f"cannot emit the window of key {key!r} ({type(key).__name__}) to topic "
                    f"{topic.name!r}: {exc}; give the topic key_serializer: json (or a "
                    "key_type the key is)"
                ) from exc
            opening = b'{"key":' + JSONCodec._encode(key) + b',"window":' if self._json else b""
            cached = (data, opening)
            if cls is str or cls is int:
                if len(self._keys) >= KEYS_MAX:
                    self._keys.clear()
                self._keys[key] = cached
        span = self._ranges.get(rng)
        if span is None:
            shown = self.window.shown_end(rng)
            times = f'{{"start":"{iso(rng[0])}","end":"{iso(shown)}"}},"value":'
            span = (times.encode(), record_timestamp(self.window, rng))
            if len(self._ranges) >= RANGES_MAX:
                self._ranges.clear()
            self._ranges[rng] = span
        if not self._json:
            body = topic.value_serde.dumps(window_record(self.window, key, rng, value))
        elif value.__class__ is int or (value.__class__ is float and value - value == 0):
            body = b"".join((cached[1], span[0], repr(value).encode(), b"}"))  # JSON's text
        else:
            body = b"".join((cached[1], span[0], JSONCodec._encode(value), b"}"))
        if self.on == "update":
            # held until the batch's punctuation: an event that then fails (dead-lettered,
            # skipped) takes its records back with its writes, as if it never ran
            seq = next(self._order)
            remember(self._updates, seq)
            self._updates[seq] = (cached[0], body, span[1])
            return
        keys, values, stamps = self._queue
        keys.append(cached[0])
        values.append(body)
        stamps.append(span[1])

    def discard(self) -> None:
        """Forget the records not handed to the producer yet (the batch is replayed)."""
        self._queue = ([], [], [])
        self._updates.clear()

    def flush(self) -> None:
        """Hand the queued records to the producer (the batch's commit writes them)."""
        if self._updates:
            updates, self._updates = self._updates, {}
            keys, values, stamps = self._queue
            for key, value, stamp in updates.values():
                keys.append(key)
                values.append(value)
                stamps.append(stamp)
        keys, values, stamps = self._queue
        if keys:
            self._queue = ([], [], [])
            self.topic.context.producer.send_many(self.topic.name, keys, values, timestamps=stamps)
