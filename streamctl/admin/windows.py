"""Read a windowed table from outside its worker: each key's windows, open or closed.

Reads never write (as :mod:`streamctl.admin.tables`): the stores are opened read-only
and caught up in memory. A window is ``closed`` once its partition's close mark (the
stream time through which the worker closed windows, from the changelog) has passed it.
Times are ISO 8601 UTC; ``end`` is exclusive (``start + size``), as in emitted records
(a session's is its last event's time).
"""

from __future__ import annotations

from typing import Any

from streamctl.admin.tables import KeyNotFound, open_read_only, table_named
from streamctl.admin.tables import is_windowed as is_windowed  # where callers look for it
from streamctl.admin.values import parse_text
from streamctl.exceptions import ConfigurationError
from streamctl.tables.recovery import Progress
from streamctl.tables.windows.emit import iso
from streamctl.tables.windows.eventtime import EventTimeError, to_seconds


def keys_typed(text: str) -> list[Any]:
    """The keys a typed ``text`` may stand for in a windowed table: its JSON, and the text."""
    return [parse_text(text), text]


def window_rows(
    app: Any,
    name: str,
    keys: list[Any] | None = None,
    progress: Progress | None = None,
    unheld: list[int] | None = None,
) -> list[dict[str, Any]]:
    """Every window (of ``keys``, if given) as ``{key, start, end, value, state}``, sorted
    by key text then start; ``state`` is ``open`` or ``closed``. Reads the local stores
    (read-only, caught up in memory); ``unheld``: only these partitions, from their
    changelogs (``streamctl.admin.tables.open_read_only``)."""
    table = table_named(app, name)
    open_read_only(app, [table], progress, unheld)
    return rows(table, keys)


def rows(table: Any, keys: list[Any] | None = None) -> list[dict[str, Any]]:
    """:func:`window_rows` of a table as this process holds it: the stores and, in a
    worker (run it on the worker's loop), its buffered writes and live close marks."""
    window = table.window
    decode, load = table._codec.decode_key, table._codec.load_value
    found = []
    for partition, raw_key, raw_value in table._iter_raw():
        key, rng = decode(raw_key)
        if keys is not None and key not in keys:
            continue
        done = table.window_closed(partition, rng)
        found.append(
            {
                "key": key,
                "start": iso(rng[0]),
                "end": iso(window.shown_end(rng)),
                "value": load(raw_value),
                "state": "closed" if done else "open",
                "_start": rng[0],
            }
        )
    found.sort(key=lambda r: (str(r["key"]), r["_start"]))
    for r in found:
        del r["_start"]
    return found


def merge_rows(parts: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The rows of several workers as one list sorted by key text (each key's windows are
    one worker's, already in start order: the sort is stable)."""
    return sorted((r for part in parts for r in part), key=lambda r: str(r["key"]))


def at_seconds(at: str) -> float:
    """``--at TIME`` (ISO 8601 or epoch seconds/ms) as epoch seconds; ConfigurationError
    (bad input, exit 2) naming the value and what is accepted."""
    try:
        return to_seconds(at)
    except EventTimeError as exc:
        raise ConfigurationError(f"--at {at!r}: {exc}") from None


def windows_holding(
    app: Any,
    name: str,
    at: str,
    found: list[dict[str, Any]] | None = None,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """Every key's windows holding time ``at`` (``start <= at < end``; a session's
    ``start <= at <= end``, its end being its last event), in :func:`window_rows` order,
    from ``found`` rows (default: the local stores'); several per key for hopping
    windows. ConfigurationError for a bad ``at``, before any store is read."""
    table = table_named(app, name)
    moment = at_seconds(at)
    if found is None:
        found = window_rows(app, name, None, progress)
    session = table.window.kind == "session"
    held = []
    for row in found:
        start, end = to_seconds(row["start"]), to_seconds(row["end"])
        if start <= moment < end or (session and start <= moment <= end):
            held.append(row)
    return held


def window_at(
    app: Any,
    name: str,
    keys: list[Any],
    at: str,
    progress: Progress | None = None,
    found: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The window of ``keys`` current at time ``at`` (ISO 8601 or epoch seconds/ms; the
    latest one holding it, Faust's ``current``; for session windows the session holding
    it), from ``found`` rows (default: the local stores'); KeyNotFound if the key has none."""
    table = table_named(app, name)
    moment = at_seconds(at)
    if found is None:
        found = window_rows(app, name, keys, progress)
    if table.window.kind == "session":  # the session holding the moment
        for row in found:
            if to_seconds(row["start"]) <= moment <= to_seconds(row["end"]):
                return row
    start = iso(table.window.current(moment)[0])
    for row in found:
        if row["start"] == start:
            return row
    raise KeyNotFound(f"table {name!r} has no window of key {keys[0]!r} at {iso(moment)}")
