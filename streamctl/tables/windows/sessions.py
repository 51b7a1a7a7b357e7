"""Session windows of a windowed table: find, extend and merge a key's sessions.

Kafka Streams' ``SessionWindows`` (Faust has none): an event at ``t`` of key ``k`` joins
every open session of ``k`` whose range ``(start, end)`` is within ``gap`` seconds of
``t`` (``start - gap <= t <= end + gap``); they become one session ``(min start, max
end)`` holding the sum of their values (Kafka's session merger for counts and sums),
then the event's own update. The sessions merged away are deleted (tombstones in the
changelog; with emit on update a record whose value is None, like Kafka's session
KTable). An event that would join a closed session, or whose own session is closed, is
late. Sessions are stored like other windows, under ``(key, (start, end))``.

Each partition keeps an index of its sessions per encoded key (``WindowClock.sessions``),
rebuilt from the store on load; a change to it is recorded in the batch's undo log, so a
failed event's merge is rolled back with its table writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from streamctl.tables.changelog import remember
from streamctl.tables.windows.ranges import WindowRange

#: the sessions of one partition: encoded key -> its sessions' ranges, oldest first
SessionIndex = dict[bytes, tuple[WindowRange, ...]]


class SessionTable:
    """Mixed into WindowedTable: the session path of its writes and reads."""

    _windows: Any
    _window: Any
    _state: Any
    _codec: Any
    _emitter: Any
    _missing_value: Callable[[Any], Any]

    def _session_update(
        self,
        partition: int,
        key: Any,
        timestamp: float,
        op: Callable[[Any, Any], Any],
        operand: Any,
        start: Any,
        missing: Any,
    ) -> bool:
        """``op(session value, operand)`` into the session of ``key`` that ``timestamp``
        joins or starts (merging those it bridges); False if it is late."""
        clock, window, state, codec = self._windows, self._window, self._state, self._codec
        gap = window.gap
        ukey = codec.encode_key(key)
        index: SessionIndex = clock.sessions.setdefault(partition, {})
        sessions = index.get(ukey, ())
        merging: list[tuple[WindowRange, bytes, bytes]] = []
        for rng in sessions:
            if rng[0] - gap <= timestamp <= rng[1] + gap:
                encoded = codec.encode_key((key, rng))
                data = state.get_in(partition, encoded)
                if data is None:
                    continue  # expired meanwhile
                if clock.is_closed(partition, rng):
                    return False  # it would grow a session that already closed
                merging.append((rng, encoded, data))
        new = (
            min([timestamp, *(m[0][0] for m in merging)]),
            max([timestamp, *(m[0][1] for m in merging)]),
        )
        if clock.is_closed(partition, new):
            return False
        if merging:
            value = codec.load_value(merging[0][2])
            for _rng, _enc, data in merging[1:]:
                value = value + codec.load_value(data)
        elif start is not missing:
            value = start
        else:
            value = self._missing_value((key, new))
        value = op(value, operand)
        put = state.buffer.put
        emitter = self._emitter
        update = emitter is not None and emitter.on == "update"
        gone = {m[0] for m in merging}
        for rng, encoded, _data in merging:
            if rng != new:
                put(partition, encoded, None)
                if update:
                    emitter.send(key, rng, None)
        new_key = codec.encode_key((key, new))
        put(partition, new_key, codec.dump_value(value))
        clock.track(partition, new_key, new, key)
        remember(index, ukey)
        index[ukey] = tuple(sorted([r for r in sessions if r not in gone] + [new]))
        if update:
            emitter.send(key, new, value)
        return True

    def _session_at(self, key: Any, timestamp: float) -> WindowRange:
        """The session of ``key`` holding ``timestamp`` (in this worker's partitions);
        ``(timestamp, timestamp)`` when none does (it reads as the default)."""
        ukey = self._codec.encode_key(key)
        for index in self._windows.sessions.values():
            for rng in index.get(ukey, ()):
                if rng[0] <= timestamp <= rng[1]:
                    found: WindowRange = rng
                    return found
        return (timestamp, timestamp)

    def _index_sessions(self, partition: int, windows: Iterable[tuple[Any, WindowRange]]) -> None:
        """Rebuild ``partition``'s session index from its stored ``(key, range)`` windows."""
        index: dict[bytes, list[WindowRange]] = {}
        encode = self._codec.encode_key
        for key, rng in windows:
            index.setdefault(encode(key), []).append(rng)
        self._windows.sessions[partition] = {k: tuple(sorted(v)) for k, v in index.items()}

    def _unindex_session(self, partition: int, key: Any, rng: WindowRange) -> None:
        """Forget an expired session of ``key``."""
        index = self._windows.sessions.get(partition)
        if index is None:
            return
        ukey = self._codec.encode_key(key)
        left = tuple(r for r in index.get(ukey, ()) if r != rng)
        remember(index, ukey)
        if left:
            index[ukey] = left
        else:
            index.pop(ukey, None)
