"""``streamctl table list|get|set|del|dump``: read and change a pipeline's tables.

KEY and VALUE arguments are parsed as JSON when they parse (``42``, ``"42"``,
``[1, 2]``, ``{"a": 1}``) and taken as plain strings otherwise (``linus``);
for a table declared with ``key_type: str`` a key is always the text given.
Output is JSON (``--format json``, the default), one ``{"key", "value"}``
object per line (``jsonl``), or a rich table (``table``).

While a worker started by ``streamctl run`` runs the app on this data dir, every
command asks it (``streamctl.admin.remote``): reads see its state, writes not yet
committed included, and writes go into its next commit. Otherwise they read and
write the local stores, and writes are refused while another worker (one registered
with the broker only) holds the group (``streamctl.admin.tables``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from streamctl.admin import remote
from streamctl.admin import tables as admin
from streamctl.admin import windows as admin_windows
from streamctl.admin.values import parse_text, value_for
from streamctl.cli.common import BrokerOpt, DatadirOpt, Group, load_for_cli, setup_logging
from streamctl.cli.output import (
    Format,
    dumps,
    emit,
    format_option,
    jsonable,
    sort_key,
    table_lines,
    text,
    write_lines,
)
from streamctl.cli.plain import RecoveryProgress
from streamctl.exceptions import ConfigurationError

table_app = typer.Typer(
    cls=Group,
    help="Read and change a pipeline's tables (recovered from their changelogs).\n\n"
    "Example: streamctl table dump pipelines/revenue.yaml orders_per_customer -f table",
    no_args_is_help=True,
    rich_markup_mode=None,
)

PipelineArg = typer.Argument(
    ..., help="Pipeline file that declares the tables.", show_default=False
)
TableArg = typer.Argument(..., help="Table name.", show_default=False)
KeyArg = typer.Argument(..., help="Key: JSON if it parses, else a string.", show_default=False)


def parse_arg(text: str, want: Any = None) -> Any:
    """JSON when ``text`` parses as JSON, else the text itself (always text for ``want=str``)."""
    return parse_text(text, want)


def table_key(app: Any, t: Any, text: str, progress: Any, unheld: list[int] | None = None) -> Any:
    """KEY as the table holds it. A table with a key type parses it as that type; one
    whose writing topics carry text keys (a pipeline's default) takes it as text, as the
    stream does (``2024`` is the text "2024", not the number); otherwise it is parsed as
    JSON (see :func:`parse_arg`), or taken as the text or its bytes when the table holds
    that key."""
    if t.key_type is None and t.source_key_codec == "raw":
        return text
    key = parse_arg(text, t.key_type)
    if t.key_type is not None:
        return key
    return admin.stored_key(app, t.name, [key, text, text.encode()], progress, unheld)


@contextmanager
def _session(pipeline: Path, broker: str | None, datadir: Path | None) -> Iterator[tuple[Any, Any]]:
    """The pipeline's App and a recovery progress bar, both closed on the way out."""
    app = _open(pipeline, broker, datadir)
    progress = RecoveryProgress()
    try:
        yield app, progress
    finally:
        progress.close()
        app.close()


def _open(pipeline: Path, broker: str | None, datadir: Path | None) -> Any:
    setup_logging("warning")  # a rebuilt store or a slow recovery is worth a line on stderr
    app = load_for_cli(pipeline, broker, datadir).app
    app.note_table_writers()  # Python agents' tables learn their topics' key form
    return app


@table_app.command("list")
def list_tables(
    pipeline: Path = PipelineArg,
    format: Format = format_option(),
    broker: str = BrokerOpt,
    datadir: Path = DatadirOpt,
) -> None:
    """List a pipeline's tables: kind, partitions, changelog topic, help.

    Example: streamctl table list pipelines/revenue.yaml -f table
    """
    app = _open(pipeline, broker, datadir)
    rows = []
    for name in sorted(app.tables):
        t = app.tables[name]
        rows.append(
            {
                "table": name,
                "kind": type(t).__name__,
                "partitions": t.partitions,
                "changelog_topic": t.changelog_topic.name,
                "help": t.help,
            }
        )
    app.close()
    emit(format, rows, ["table", "kind", "partitions", "changelog_topic", "help"])


def _one(format: Format, table: str, key: Any, value: Any) -> None:
    """One key's value: JSON (the value), jsonl ({key, value}), or a two-column table."""
    if format is Format.json:
        write_lines([dumps(value)])
    else:
        emit(format, [{"key": key, "value": value}], ["key", "value"], _kv_cell)


def _kv_cell(column: str, value: Any) -> str:
    return text(jsonable(value)) if column == "key" else dumps(value)


@table_app.command("get")
def get(
    pipeline: Path = PipelineArg,
    table: str = TableArg,
    key: str = KeyArg,
    format: Format = format_option(
        help="json: the value; jsonl: one {key, value} object; table: aligned columns."
    ),
    broker: str = BrokerOpt,
    datadir: Path = DatadirOpt,
    at: str | None = typer.Option(
        None,
        "--at",
        help="Windowed table: the window holding this time (ISO 8601 or epoch seconds).",
    ),
) -> None:
    """Print one key's value as JSON (exit 1 if the key is not there).

    A windowed table lists the key's windows (start, end, value, open or closed);
    --at TIME prints the value of the window holding TIME.

    Example: streamctl table get pipelines/revenue.yaml revenue_per_customer linus
    """
    with _session(pipeline, broker, datadir) as (app, progress):
        t = admin.table_named(app, table)
        if admin.is_windowed(t):
            _windows(app, format, table, key, at, progress)
            return
        _refuse_at(at, table)
        found = remote.get(app, table, key)
        if isinstance(found, tuple):
            k, value = found
        else:  # no worker runs, or none reachable holds the key's partition
            unheld = None if found is None else found.partitions
            k = table_key(app, t, key, progress, unheld)
            value = admin.get(app, table, k, progress, unheld)
    _one(format, table, k, value)


def _refuse_at(at: str | None, table: str) -> None:
    if at is not None:
        raise ConfigurationError(
            f"--at is for windowed tables; table {table!r} has no window: (drop --at)"
        )


WINDOW_COLUMNS = ["key", "start", "end", "value", "state"]


def _windows(app: Any, format: Format, table: str, key: str, at: Any, progress: Any) -> None:
    """A windowed key: its windows (or, with ``at``, the one window's value), from the
    running workers when they run, else from the local stores."""
    keys = admin_windows.keys_typed(key)
    rows = remote.windows(app, table, key, progress)
    if at is not None:
        row = admin_windows.window_at(app, table, keys, at, progress, rows)
        _one(format, table, row["key"], row["value"])
        return
    if rows is None:
        rows = admin_windows.window_rows(app, table, keys, progress)
    if not rows:
        raise admin.KeyNotFound(f"table {table!r} has no windows of key {keys[-1]!r}")
    _window_rows(format, rows)


def _window_rows(format: Format, rows: list[dict[str, Any]]) -> None:
    if format is Format.json:
        write_lines([json.dumps(rows, indent=2, ensure_ascii=False, default=str)])
    else:
        emit(format, rows, WINDOW_COLUMNS, _window_cell)


def _window_cell(column: str, value: Any) -> str:
    return dumps(value) if column == "value" else text(jsonable(value))


@table_app.command("set")
def set_(
    pipeline: Path = PipelineArg,
    table: str = TableArg,
    key: str = KeyArg,
    value: str = typer.Argument(
        ...,
        help="Value: JSON if it parses, else a string; checked against the table's type. "
        "A set table takes one member or a JSON array of members.",
        show_default=False,
    ),
    format: Format = format_option(
        help="json: {table, key, value} written; jsonl: the same on one line; table: columns."
    ),
    broker: str = BrokerOpt,
    datadir: Path = DatadirOpt,
) -> None:
    """Set a key through the table's changelog and store (a running worker applies it).

    Example: streamctl table set pipelines/revenue.yaml orders_per_customer linus 10
    """
    with _session(pipeline, broker, datadir) as (app, progress):
        t = admin.table_named(app, table)
        admin.refuse_write(t, "set")  # bad input is refused here, before any worker is asked
        v = value_for(t, value)
        done = remote.put(app, table, key, value)
        if done is not None:
            k, v = done
        else:
            k = table_key(app, t, key, progress)
            admin.put(app, table, k, v, progress)
    _done(format, "set", table, k, v)


def _done(format: Format, action: str, table: str, key: Any, value: Any = None) -> None:
    record = {"action": action, "table": table, "key": key}
    if action == "set":
        record["value"] = value
    if format is Format.table:
        write_lines([f"{action} {table}[{dumps(key)}]"])
    elif format is Format.jsonl:
        write_lines([dumps(record)])
    else:
        write_lines([json.dumps(jsonable(record), indent=2, ensure_ascii=False, default=str)])


@table_app.command("del")
def delete(
    pipeline: Path = PipelineArg,
    table: str = TableArg,
    key: str = KeyArg,
    format: Format = format_option(
        help="json: {table, key} deleted; jsonl: the same on one line; table: one line."
    ),
    broker: str = BrokerOpt,
    datadir: Path = DatadirOpt,
) -> None:
    """Delete a key (a tombstone in the changelog; a running worker applies it).

    Example: streamctl table del pipelines/revenue.yaml orders_per_customer linus
    """
    with _session(pipeline, broker, datadir) as (app, progress):
        t = admin.table_named(app, table)
        admin.refuse_write(t, "delete")
        k = remote.delete(app, table, key)
        if k is None:
            k = table_key(app, t, key, progress)
            admin.delete(app, table, k, progress)
    _done(format, "del", table, k)


@table_app.command("dump")
def dump(
    pipeline: Path = PipelineArg,
    table: str = TableArg,
    format: Format = format_option(
        help="json: one object (non-text keys as their JSON text); "
        "jsonl: one {key, value} per line; table: aligned columns."
    ),
    broker: str = BrokerOpt,
    datadir: Path = DatadirOpt,
    at: str | None = typer.Option(
        None,
        "--at",
        help="Windowed table: only each key's windows holding this time "
        "(ISO 8601 or epoch seconds).",
    ),
) -> None:
    """Print every key and value of a table, sorted by key.

    A windowed table lists every window (key, start, end, value, open or closed);
    --at TIME keeps, per key, the windows holding TIME.

    Example: streamctl table dump pipelines/revenue.yaml revenue_per_customer -f table
    """
    if at is not None:
        admin_windows.at_seconds(at)  # a bad time is refused before anything is opened
    with _session(pipeline, broker, datadir) as (app, progress):
        if admin.is_windowed(admin.table_named(app, table)):
            windows = remote.windows(app, table, None, progress)
            if at is not None:
                windows = admin_windows.windows_holding(app, table, at, windows, progress)
            elif windows is None:
                windows = admin_windows.window_rows(app, table, None, progress)
            _window_rows(format, windows)
            return
        _refuse_at(at, table)
        found = remote.items(app, table)
        if found is None:
            pairs = admin.items(app, table, progress)
        else:  # what the running workers hold, the rest from the changelogs
            pairs, unheld = found
            if unheld.partitions:
                pairs += admin.items(app, table, progress, unheld.partitions)
        rows = [(jsonable(k), jsonable(v)) for k, v in pairs]
    rows.sort(key=lambda kv: sort_key(kv[0]))
    if format is Format.jsonl:
        write_lines(dumps({"key": k, "value": v}) for k, v in rows)
    elif format is Format.table:
        write_lines(table_lines(["key", "value"], [[text(k), dumps(v)] for k, v in rows]))
    else:
        write_lines(
            [json.dumps({text(k): v for k, v in rows}, indent=2, ensure_ascii=False, default=str)]
        )
