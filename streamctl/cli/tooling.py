"""``streamctl init``, ``streamctl plugins`` and ``streamctl echo``: scaffold, list what is installed, show a resolved pipeline."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path

import typer

from streamctl.cli.common import out
from streamctl.cli.output import Format, emit, format_option


def init(
    name: Path = typer.Argument(
        Path("."),
        help="The folder to create here, named as the app id (letters, digits, _ -; "
        "default: this folder).",
        metavar="NAME",
    ),
) -> None:
    """Scaffold a pipeline: a model, a step chain, a sample input and a passing test.

    Writes NAME/NAME.yaml, NAME/NAME_test.yaml, NAME/data/NAME.jsonl and the
    schemas NAME/pipeline.schema.json and NAME/pipeline-test.schema.json (for
    editors); the app id, topics and table names come
    from the folder's name. Nothing is overwritten: a file that exists is refused
    (exit 2). The result passes `streamctl validate` and `streamctl test`.

    Example: streamctl init shop && streamctl test shop/
    """
    from streamctl.pipeline.scaffold import check_name, scaffold

    check_name(str(name))
    for path in scaffold(name):
        out.print(f"wrote {path}", markup=False)
    app = name.resolve().name
    pipeline = name / f"{app}.yaml"
    out.print(f"next: streamctl test {pipeline}", markup=False)


class Kind(str, Enum):
    """A seam ``plugins`` lists."""

    agent = "agent"
    step = "step"
    codec = "codec"
    transport = "transport"
    store = "store"


def plugins(
    kind: list[Kind] = typer.Option(
        None,
        "--kind",
        "-k",
        help="Only these kinds (repeatable): agent, step, codec, transport, store.",
        metavar="KIND",
    ),
    format: Format = format_option(
        Format.table,
        help="table: aligned columns (the default); json: one JSON document; jsonl: one line each.",
    ),
) -> None:
    """List the agents, steps, codecs, transports and stores that pipelines can name:
    built-ins and plugins (entry points streamctl.agents, streamctl.steps,
    streamctl.codecs, streamctl.transports, streamctl.stores), with the package and
    version providing each and its one-line doc.

    Example: streamctl plugins --kind step
    """
    from streamctl.pipeline.catalog import installed

    rows = [r.as_dict() for r in installed([k.value for k in kind] if kind else None)]
    emit(format, rows, ("kind", "name", "package", "version", "doc"))


class EchoFormat(str, Enum):
    """How ``echo`` prints."""

    yaml = "yaml"
    json = "json"


def echo(
    pipeline: Path = typer.Argument(..., help="The pipeline file.", show_default=False),
    format: EchoFormat = typer.Option(
        EchoFormat.yaml, "--format", "-f", help="yaml or json.", metavar="yaml|json"
    ),
) -> None:
    """Print the pipeline as `run` would use it: defaults filled in, ${VAR}s expanded,
    a models: file inlined, secrets masked.

    Every engine setting, each topic's partitions and serializers, each table's kind,
    partitions and changelog topic, each agent's concurrency and error policy are
    written out. Nothing is run, imported or created; a file with a problem exits 2
    with file:line:column.

    Example: streamctl echo pipelines/order_totals.yaml
    """
    import yaml

    from streamctl.pipeline.resolved import resolve

    doc = resolve(pipeline)
    if format is EchoFormat.json:
        out.print(json.dumps(doc, indent=2, default=str), markup=False)
        return
    out.print(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), markup=False, end="")
