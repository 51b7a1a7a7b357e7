"""Read and change an app's tables from outside its worker (what ``streamctl table`` runs).

Reads never write. They open the same store files the worker uses, read-only
(SQLite in WAL mode: a reader sees the state before or after a batch, never
half of one), and create, change or delete nothing: no store, no data dir, no
broker log. When no worker holds the app's consumer group, the changelog
records a store has not applied yet (a worker stopped before catching up, or
the stores were deleted) are replayed into memory on top of it, so a read
answers with the log's state and leaves the files for the next worker to catch
up. A store ahead of its changelog (the broker's log was deleted or replaced)
is refused with StoreAheadOfLog, as the worker refuses it. While a worker runs,
reads show what it last committed and leave recovery to it.

Writes (``put``/``delete``) go through the changelog like any table write
(coalesced, partitioned where the key lives or where the stream puts that
key) and then into the store, so they survive recovery and reach every
replica. They are refused while a worker holds the consumer group: a running
worker owns its tables' state (as in Kafka Streams and Faust, where state is
changed by sending events, not by writing a changelog behind the app's back),
and it would not see a change made under it and would overwrite it with its
next write to that key. The group is checked again after the write: a worker
that joined in between is reported, since it may have recovered before the
write landed (the embedded broker records members before they recover, so a
worker that joins after the write always replays it).

A worker started by ``streamctl run`` on this data dir is asked instead, through its
control channel (``streamctl.admin.remote``): there reads see its live state and
writes are applied by the worker itself, in its next commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from streamctl.admin import workers
from streamctl.exceptions import ConfigurationError, DecodeError
from streamctl.naming import consumer_group
from streamctl.tables.exceptions import TableError
from streamctl.tables.recovery import Progress
from streamctl.worker import commit


class WorkerRunning(TableError):
    """A write was refused because a worker is running the app."""


class KeyNotFound(TableError):
    """``get``/``delete`` of a key the table does not have."""


class UnknownTable(TableError):
    """A table name the app does not declare: bad input (exit 2)."""

    exit_code = 2


class WindowedWrite(TableError):
    """``set``/``del`` of a windowed table's key: bad input (exit 2)."""

    exit_code = 2


def is_windowed(table: Any) -> bool:
    return getattr(table, "_windows", None) is not None


def refuse_write(table: Any, action: str) -> None:
    """WindowedWrite when ``table`` is windowed: a key typed on the command line names no
    window, and a value stored outside every window breaks every later read of the table."""
    if is_windowed(table):
        raise WindowedWrite(
            f"cannot {action} a key of table {table.name!r}: it is windowed, and its windows "
            "are written by its agents only; send an event to its input topic instead"
        )


def table_named(app: Any, name: str) -> Any:
    table = app.tables.get(name)
    if table is None:
        import difflib

        close = difflib.get_close_matches(name, list(app.tables), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        known = ", ".join(sorted(app.tables)) or "none"
        raise UnknownTable(f"app {app.id!r} has no table {name!r}{hint} (tables: {known})")
    return table


def running_workers(app: Any) -> list[str]:
    """Live members of the app's consumer group ([] when none or when the broker cannot tell)."""
    return app.transport.group_members(consumer_group(app.id)) or []


def check_changelogs(app: Any, tables: Iterable[Any]) -> None:
    """ConfigurationError naming the changelog topic (or source topic) that the broker has with
    another partition count than the table declares (#9): reading such a table would
    miss or misplace keys."""
    from streamctl.tables.manager import partition_problems

    existing = {name: spec.partitions for name, spec in app.transport.list_topics().items()}
    problems = partition_problems(tables, {}, existing)
    if problems:
        raise ConfigurationError(problems[0][1])


def workers_use_these_stores(app: Any) -> bool:
    """True when a running worker may be writing the stores of this data dir: a member of
    the app's group on the embedded broker (all run here), or on Kafka one registered in
    this data dir (a Kafka worker elsewhere has stores of its own: the changelog is then
    the truth to read, ``streamctl.admin.workers``)."""
    if app.transport.members_share_datadir:
        return bool(running_workers(app))
    return bool(workers.live(app.conf.datadir, app.id))


def recover(app: Any, tables: Iterable[Any], progress: Progress | None = None) -> bool:
    """Replay changelogs into the stores unless a worker runs; True if it recovered."""
    tables = list(tables)
    check_changelogs(app, tables)
    if running_workers(app):
        return False
    for table in tables:
        table.recover(app.transport, None, progress=progress)
    return True


def open_read_only(
    app: Any,
    tables: Iterable[Any],
    progress: Progress | None = None,
    unheld: list[int] | None = None,
) -> None:
    """Open ``tables`` for reading: read-only stores, caught up in memory from the
    changelog unless a worker writes these stores (``workers_use_these_stores``).
    ``unheld``: open these partitions only, the ones no running worker holds
    (``streamctl.admin.remote``), always caught up from the changelog, the truth for a
    partition whose owner runs elsewhere (a local store of it is a standby's or stale)."""
    tables = list(tables)
    check_changelogs(app, tables)
    replay_log = unheld is not None or not workers_use_these_stores(app)
    for table in tables:
        table.read_only(app.transport, replay_log=replay_log, partitions=unheld, progress=progress)


def stored_key(
    app: Any,
    name: str,
    candidates: list[Any],
    progress: Progress | None = None,
    unheld: list[int] | None = None,
) -> Any:
    """The first of ``candidates`` the table holds, else the first: how a key typed on
    the command line (``2024``) finds a key that a stream wrote as bytes (``b'2024'``, a
    topic with no key type) in a table with no key type (#9). Reads only; ``unheld`` as
    in ``open_read_only``."""
    table = table_named(app, name)
    open_read_only(app, [table], progress, unheld)
    for key in candidates:
        if key in table:
            return key
    return candidates[0]


def get(
    app: Any, name: str, key: Any, progress: Progress | None = None, unheld: list[int] | None = None
) -> Any:
    """``key``'s value; KeyNotFound when the table has none. ``unheld``: read only these
    partitions, from the changelog (``open_read_only``)."""
    table = table_named(app, name)
    open_read_only(app, [table], progress, unheld)
    try:
        value = table.get(key)
    except DecodeError as exc:
        raise _undecodable(table, key, exc) from None
    if value is None:
        raise KeyNotFound(f"table {name!r} has no key {key!r}")
    return value


def items(
    app: Any, name: str, progress: Progress | None = None, unheld: list[int] | None = None
) -> list[tuple[Any, Any]]:
    """Every (key, value); ``unheld``: of these partitions only, from the changelog
    (``open_read_only``)."""
    table = table_named(app, name)
    open_read_only(app, [table], progress, unheld)
    try:
        return list(iter(table.items()))  # iter(): list() would ask len(), a second full scan
    except DecodeError as exc:
        raise _undecodable(table, _first_bad_key(table), exc) from None


def _first_bad_key(table: Any) -> Any:
    """The first key whose stored value does not decode (None if the keys do not either)."""
    try:
        keys = list(table.keys())
    except DecodeError:
        return None
    for key in keys:
        try:
            table.get(key)
        except DecodeError:
            return key
    return None


def _undecodable(table: Any, key: Any, exc: Exception) -> TableError:
    at = "a key" if key is None else f"key {key!r}"
    return TableError(
        f"table {table.name!r}: the stored value of {at} cannot be decoded ({exc}); the "
        "store file is damaged or was written with another value type: move the table's "
        "store files away and run the worker to rebuild them from the changelog"
    )


def _refuse_if_running(app: Any, action: str) -> None:
    members = running_workers(app)
    if members:
        raise WorkerRunning(
            f"cannot {action} while a worker runs app {app.id!r} ({', '.join(members)}): "
            "a running worker owns its tables; stop it first, or change the table by sending "
            "an event to its input topic"
        )


def put(app: Any, name: str, key: Any, value: Any, progress: Progress | None = None) -> None:
    """Set ``table[key] = value`` through the changelog and the store."""
    table = table_named(app, name)
    refuse_write(table, "set")
    _refuse_if_running(app, f"set a key of table {name!r}")
    recover(app, [table], progress)
    if table.is_global:
        _write_global(app, table, key, value)
    else:
        table[key] = value
        _commit(app, table)
    _check_after(app, "set")


def delete(app: Any, name: str, key: Any, progress: Progress | None = None) -> None:
    """Delete ``key`` (a tombstone in the changelog); KeyNotFound if it is not there."""
    table = table_named(app, name)
    refuse_write(table, "delete")
    _refuse_if_running(app, f"delete a key of table {name!r}")
    recover(app, [table], progress)
    if table.get(key) is None:
        raise KeyNotFound(f"table {name!r} has no key {key!r}")
    if table.is_global:
        _write_global(app, table, key, None)
    else:
        del table[key]
        _commit(app, table)
    _check_after(app, "delete")


def _commit(app: Any, table: Any) -> None:
    commit.commit_batch(table, app.producer)


def _write_global(app: Any, table: Any, key: Any, value: Any) -> None:
    """Global tables are read-only to agents; their changelog is their input."""
    table.send_to_changelog(app.producer, key, value)
    app.producer.flush()
    table.recover(app.transport, None)


def _check_after(app: Any, action: str) -> None:
    members = running_workers(app)
    if members:
        raise WorkerRunning(
            f"the {action} was written to the changelog, but a worker started meanwhile "
            f"({', '.join(members)}) and may have recovered before it: restart that worker"
        )
