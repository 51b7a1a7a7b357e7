"""Read a windowed table from outside its worker: each key's windows, open or closed.

Reads never write (as :mod:`streamctl.admin.tables`): the stores are opened read-only
and caught up in memory. A window is ``closed`` once its partition's close mark (the
stream time through which the worker closed windows, from the changelog) has passed it.
Times are ISO 8601 UTC; ``end`` is exclusive (``start + size``), as in emitted records.
"""

from __future__ import annotations

from typing import Any

from streamctl.admin.tables import KeyNotFound, open_read_only, table_named
from streamctl.exceptions import ConfigurationError
from streamctl.tables.recovery import Progress
from streamctl.tables.windows.emit import iso
from streamctl.tables.windows.eventtime import EventTimeError, to_seconds


def is_windowed(table: Any) -> bool:
    return getattr(table, "_windows", None) is not None


def window_rows(
    app: Any, name: str, keys: list[Any] | None = None, progress: Progress | None = None
) -> list[dict[str, Any]]:
    """Every window (of ``keys``, if given) as ``{key, start, end, value, state}``, sorted
    by key text then start; ``state`` is ``open`` or ``closed``."""
    table = table_named(app, name)
    open_read_only(app, [table], progress)
    window = table.window
    decode, load = table._codec.decode_key, table._codec.load_value
    rows = []
    for partition, raw_key, raw_value in table._iter_raw():
        key, rng = decode(raw_key)
        if keys is not None and key not in keys:
            continue
        done = table.window_closed(partition, rng)
        rows.append(
            {
                "key": key,
                "start": iso(rng[0]),
                "end": iso(window.shown_end(rng)),
                "value": load(raw_value),
                "state": "closed" if done else "open",
                "_start": rng[0],
            }
        )
    rows.sort(key=lambda r: (str(r["key"]), r["_start"]))
    for r in rows:
        del r["_start"]
    return rows


def window_at(
    app: Any, name: str, keys: list[Any], at: str, progress: Progress | None = None
) -> dict[str, Any]:
    """The window of ``keys`` current at time ``at`` (ISO 8601 or epoch seconds/ms; the
    latest one holding it, Faust's ``current``; for session windows the session holding
    it); KeyNotFound if the key has none."""
    table = table_named(app, name)
    try:
        moment = to_seconds(at)
    except EventTimeError as exc:
        raise ConfigurationError(f"--at {at!r}: {exc}") from None
    rows = window_rows(app, name, keys, progress)
    if table.window.kind == "session":  # the session holding the moment
        for row in rows:
            if to_seconds(row["start"]) <= moment <= to_seconds(row["end"]):
                return row
    start = iso(table.window.current(moment)[0])
    for row in rows:
        if row["start"] == start:
            return row
    raise KeyNotFound(f"table {name!r} has no window of key {keys[0]!r} at {iso(moment)}")
