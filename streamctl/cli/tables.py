"""``streamctl table list|get|set|del|dump``: read and change a pipeline's tables.

KEY and VALUE arguments are parsed as JSON when they parse (``42``, ``"42"``,
``[1, 2]``, ``{"a": 1}``) and taken as plain strings otherwise (``linus``);
for a table declared with ``key_type: str`` a key is always the text given.
Output is JSON (``--format json``, the default), one ``{"key", "value"}``
object per line (``jsonl``), or a rich table (``table``).

Writes are refused while a worker runs the app (see ``streamctl.admin.tables``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Any

import typer

from streamctl.admin import tables as admin
from streamctl.cli.common import BrokerOpt, DatadirOpt, Group, err, out, setup_logging
from streamctl.exceptions import DecodeError
from streamctl.models.codecs import get_codec
from streamctl.pipeline import load_pipeline

table_app = typer.Typer(
    cls=Group,
    help="Read and change a pipeline's tables (recovered from their changelogs).",
    no_args_is_help=True,
    rich_markup_mode=None,
)

PipelineArg = typer.Argument(
    ..., help="Pipeline file that declares the tables.", show_default=False
)
TableArg = typer.Argument(..., help="Table name.", show_default=False)
KeyArg = typer.Argument(..., help="Key: JSON if it parses, else a string.", show_default=False)


class Format(str, Enum):
    json = "json"
    jsonl = "jsonl"
    table = "table"


def parse_arg(text: str, want: Any = None) -> Any:
    """JSON when ``text`` parses as JSON, else the text itself (always text for ``want=str``)."""
    if want is str:
        return text
    try:
        return get_codec("json").loads(text.encode())
    except DecodeError:
        return text


def table_key(app: Any, t: Any, text: str, progress: Any) -> Any:
    """KEY as the table holds it: parsed as JSON (see :func:`parse_arg`), else, in a table
    with no key type, the text or its bytes when the table holds that key (a stream
    keyed by text or bytes wrote ``"2024"`` or ``b"2024"``, not the number 2024)."""
    key = parse_arg(text, t.key_type)
    if t.key_type is not None:
        return key
    return admin.stored_key(app, t.name, [key, text, text.encode()], progress)


def jsonable(obj: Any) -> Any:
    """Sets as sorted lists, tuples as lists, records as their fields."""
    if isinstance(obj, (set, frozenset)):
        return sorted((jsonable(x) for x in obj), key=_sort_key)
    if isinstance(obj, (list, tuple)):
        return [jsonable(x) for x in obj]
    if isinstance(obj, dict):
        return {k if isinstance(k, str) else _text(k): jsonable(v) for k, v in obj.items()}
    rep = getattr(obj, "to_representation", None) or getattr(obj, "asdict", None)
    if rep is not None:
        return jsonable(rep())
    return obj


def _text(key: Any) -> str:
    return key if isinstance(key, str) else json.dumps(jsonable(key), sort_keys=True)


def _sort_key(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, default=str)


def _dumps(obj: Any) -> str:
    return json.dumps(jsonable(obj), ensure_ascii=False, default=str)


class RecoveryProgress:
    """A rich progress bar for changelog replays on a terminal (nothing otherwise)."""

    def __init__(self, threshold: int = 10_000) -> None:
        self.threshold = threshold
        self.bar: Any = None
        self.tasks: dict[tuple[str, int], Any] = {}

    def __call__(self, table: Any, partition: int, done: int, total: int) -> None:
        if total < self.threshold or not sys.stderr.isatty():
            return
        if self.bar is None:
            from rich.progress import Progress

            self.bar = Progress(console=err, transient=True)
            self.bar.start()
        task = self.tasks.get((table.name, partition))
        if task is None:
            task = self.tasks[(table.name, partition)] = self.bar.add_task(
                f"recovering {table.name}[{partition}]", total=total
            )
        self.bar.update(task, completed=done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


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
    return load_pipeline(pipeline, broker=broker, datadir=datadir).app


@table_app.command("list")
def list_tables(
    pipeline: Path = PipelineArg,
    format: Format = typer.Option(Format.json, "--format", "-f", help="json or table."),
    broker: str = BrokerOpt,
    datadir: Path = DatadirOpt,
) -> None:
    """List a pipeline's tables: kind, partitions, changelog topic, help.

    Example: streamctl table list pipelines/revenue.yaml
    """
    app = _open(pipeline, broker, datadir)
    rows = []
    for name in sorted(app.tables):
        t = app.tables[name]
        kind = type(t).__name__
        rows.append(
            {
                "table": name,
                "kind": kind,
                "partitions": t.partitions,
                "changelog_topic": t.changelog_topic.name,
                "help": t.help,
            }
        )
    app.close()
    if format is Format.table:
        from rich.table import Table

        view = Table("table", "kind", "partitions", "changelog topic", "help")
        for r in rows:
            view.add_row(
                r["table"], r["kind"], str(r["partitions"]), r["changelog_topic"], r["help"] or ""
            )
        out.print(view)
    elif format is Format.jsonl:
        for r in rows:
            out.print(_dumps(r), markup=False)
    else:
        out.print(json.dumps(rows, indent=2), markup=False)


@table_app.command("get")
def get(
    pipeline: Path = PipelineArg,
    table: str = TableArg,
    key: str = KeyArg,
    broker: str = BrokerOpt,
    datadir: Path = DatadirOpt,
) -> None:
    """Print one key's value as JSON (exit 1 if the key is not there).

    Example: streamctl table get pipelines/revenue.yaml revenue_per_customer linus
    """
    with _session(pipeline, broker, datadir) as (app, progress):
        t = admin.table_named(app, table)
        value = admin.get(app, table, table_key(app, t, key, progress), progress)
    out.print(_dumps(value), markup=False)


@table_app.command("set")
def set_(
    pipeline: Path = PipelineArg,
    table: str = TableArg,
    key: str = KeyArg,
    value: str = typer.Argument(
        ..., help="Value: JSON if it parses, else a string.", show_default=False
    ),
    broker: str = BrokerOpt,
    datadir: Path = DatadirOpt,
) -> None:
    """Set a key through the table's changelog and store (refused while a worker runs).

    Example: streamctl table set pipelines/revenue.yaml orders_per_customer linus 10
    """
    with _session(pipeline, broker, datadir) as (app, progress):
        t = admin.table_named(app, table)
        k = table_key(app, t, key, progress)
        members = t.default is set  # a set table's value is a JSON list of members
        admin.put(app, table, k, parse_arg(value, None if members else t.value_type), progress)
    out.print(f"set {table}[{_dumps(k)}]", markup=False)


@table_app.command("del")
def delete(
    pipeline: Path = PipelineArg,
    table: str = TableArg,
    key: str = KeyArg,
    broker: str = BrokerOpt,
    datadir: Path = DatadirOpt,
) -> None:
    """Delete a key (a tombstone in the changelog; refused while a worker runs).

    Example: streamctl table del pipelines/revenue.yaml orders_per_customer linus
    """
    with _session(pipeline, broker, datadir) as (app, progress):
        t = admin.table_named(app, table)
        k = table_key(app, t, key, progress)
        admin.delete(app, table, k, progress)
    out.print(f"deleted {table}[{_dumps(k)}]", markup=False)


@table_app.command("dump")
def dump(
    pipeline: Path = PipelineArg,
    table: str = TableArg,
    format: Format = typer.Option(
        Format.json,
        "--format",
        "-f",
        help="json: one object (non-text keys as their JSON text); "
        "jsonl: one {key, value} per line; table: a rich table.",
    ),
    broker: str = BrokerOpt,
    datadir: Path = DatadirOpt,
) -> None:
    """Print every key and value of a table, sorted by key.

    Example: streamctl table dump pipelines/revenue.yaml revenue_per_customer --format table
    """
    with _session(pipeline, broker, datadir) as (app, progress):
        rows = admin.items(app, table, progress)
    rows.sort(key=lambda kv: _sort_key(jsonable(kv[0])))
    if format is Format.jsonl:
        for k, v in rows:
            out.print(_dumps({"key": k, "value": v}), markup=False)
    elif format is Format.table:
        from rich.table import Table

        view = Table("key", "value", title=table)
        for k, v in rows:
            view.add_row(_text(jsonable(k)), _dumps(v))
        out.print(view)
    else:
        out.print(
            json.dumps(
                {_text(jsonable(k)): jsonable(v) for k, v in rows},
                indent=2,
                ensure_ascii=False,
                default=str,
            ),
            markup=False,
        )
