"""Output formats shared by every command: ``--format json|jsonl|table``, numbers, JSON text.

Rows are written straight to stdout in one buffered write per chunk, never rendered
one by one through rich: ``table dump`` of 60,000 keys must stay a matter of a second
(bench/cli_dump.py measures it).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from enum import Enum
from pathlib import Path
from typing import Any

import typer

from streamctl.cli.plain import number
from streamctl.exceptions import ConfigurationError

#: rows written per ``write()`` call
CHUNK = 2_000


class Format(str, Enum):
    """How a command prints its result."""

    json = "json"
    jsonl = "jsonl"
    table = "table"


def format_option(default: Format = Format.json, help: str | None = None) -> Any:
    """The one ``--format/-f`` option: ``-f`` means --format in every command."""
    return typer.Option(
        default,
        "--format",
        "-f",
        help=help
        or "json: one JSON document; jsonl: one JSON object per line; table: aligned columns.",
        metavar="json|jsonl|table",
    )


def jsonable(obj: Any) -> Any:
    """Sets as sorted lists, tuples as lists, records as their fields."""
    if isinstance(obj, (set, frozenset)):
        return sorted((jsonable(x) for x in obj), key=sort_key)
    if isinstance(obj, (list, tuple)):
        return [jsonable(x) for x in obj]
    if isinstance(obj, dict):
        return {k if isinstance(k, str) else text(k): jsonable(v) for k, v in obj.items()}
    rep = getattr(obj, "to_representation", None) or getattr(obj, "asdict", None)
    if rep is not None:
        return jsonable(rep())
    return obj


def text(key: Any) -> str:
    """A key as text: strings as they are, anything else as its JSON."""
    return key if isinstance(key, str) else json.dumps(jsonable(key), sort_keys=True)


def sort_key(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, default=str)


def dumps(obj: Any) -> str:
    """One line of JSON (non-ASCII kept, unknown types as their ``str``)."""
    return json.dumps(jsonable(obj), ensure_ascii=False, default=str)


def write_lines(lines: Iterable[str]) -> None:
    """Write lines to stdout in chunks (no per-line rendering)."""
    chunk: list[str] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) >= CHUNK:
            sys.stdout.write("\n".join(chunk) + "\n")
            chunk.clear()
    if chunk:
        sys.stdout.write("\n".join(chunk) + "\n")
    sys.stdout.flush()


def table_lines(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> Iterable[str]:
    """Aligned plain-text columns: a header, a rule, then one line per row."""
    widths = [len(c) for c in columns]
    for row in rows:
        for i, cell in enumerate(row):
            if len(cell) > widths[i]:
                widths[i] = len(cell)
    last = len(columns) - 1

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c if i == last else c.ljust(widths[i]) for i, c in enumerate(cells))

    yield line(columns)
    yield "  ".join("-" * w for w in widths)
    for row in rows:
        yield line(row)


def emit(
    fmt: Format,
    records: Sequence[dict[str, Any]],
    columns: Sequence[str],
    cell: Any = None,
) -> None:
    """Print ``records`` as one JSON array, JSON lines, or aligned columns.

    ``cell(column, value) -> str`` renders a table cell (default: text as is, the rest as JSON).
    """
    if fmt is Format.json:
        sys.stdout.write(json.dumps(jsonable(list(records)), indent=2, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    elif fmt is Format.jsonl:
        write_lines(dumps(r) for r in records)
    else:
        render = cell or _cell
        rows = [[render(c, r.get(c)) for c in columns] for r in records]
        write_lines(table_lines([c.replace("_", " ") for c in columns], rows))


def _cell(_column: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, int):
        return number(value)
    return value if isinstance(value, str) else dumps(value)


def write_file(path: Path, text: str, option: str) -> None:
    """Write ``text`` (UTF-8) to the file an option names, creating its folder (as pytest's
    ``--junitxml`` does); ConfigurationError (bad input, exit 2) naming ``option`` when
    it cannot be written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(
            f"{option} {path}: cannot write it: {exc.strerror or exc}"
        ) from None
