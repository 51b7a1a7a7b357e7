"""``streamctl schema export|check|pipeline``: JSON Schemas of a pipeline's models, and of pipeline files."""

from __future__ import annotations

from pathlib import Path

import typer

from streamctl.cli.common import Group, err, out
from streamctl.cli.output import write_file
from streamctl.exceptions import ConfigurationError, StreamctlError
from streamctl.pipeline.loader import read_pipeline_spec

schema_app = typer.Typer(
    cls=Group,
    help="Export and check the JSON Schemas of pipeline models; print the schema of "
    "pipeline files (schema pipeline).\n\n"
    "Example: streamctl schema check pipelines/*.yaml --dir schemas/",
    no_args_is_help=True,
    rich_markup_mode=None,
)


class SchemasStale(StreamctlError):
    """``schema check`` found committed schemas that differ from the models (exit 1)."""

    exit_code = 1


def _models(pipeline: Path) -> tuple[str, dict[str, type]]:
    from streamctl.pipeline.models import build_pipeline_models

    spec = read_pipeline_spec(pipeline)
    if not spec.models:
        return spec.app_id, {}
    return spec.app_id, build_pipeline_models(spec)


@schema_app.command("export")
def export(
    pipelines: list[Path] = typer.Argument(
        ...,
        help="Pipeline files whose models to export.",
        show_default=False,
    ),
    out_dir: Path = typer.Option(
        Path("schemas"),
        "--out",
        "-o",
        help="Folder to write to; one sub-folder per app.",
        metavar="DIR",
    ),
) -> None:
    """Write one Draft 2020-12 JSON Schema per model, as OUT/APP/NAME.schema.json.

    The output is deterministic (sorted keys), so CI can diff it.

    Example: streamctl schema export pipelines/*.yaml --out schemas/
    """
    from streamctl.models.schema import write_schemas

    for pipeline in pipelines:
        app_id, models = _models(pipeline)
        if not models:
            err.print(f"{pipeline}: no models, nothing to export", markup=False)
            continue
        for path in write_schemas(models, out_dir / app_id):
            out.print(str(path), markup=False)


@schema_app.command("check")
def check(
    pipelines: list[Path] = typer.Argument(
        ...,
        help="Pipeline files whose models to check.",
        show_default=False,
    ),
    schema_dir: Path = typer.Option(
        Path("schemas"), "--dir", help="Folder the schemas were exported to.", metavar="DIR"
    ),
) -> None:
    """Fail (exit 1; 2 for a bad pipeline file) when a committed schema is missing, differs from the models, or
    belongs to no model any more (in the folder of an app checked).

    Example: streamctl schema check pipelines/*.yaml --dir schemas/
    """
    from streamctl.models.schema import schema_path, stale_schemas

    stale: list[str] = []
    for pipeline in pipelines:
        app_id, models = _models(pipeline)
        folder = schema_dir / app_id
        stale += [
            f"stale or missing: {schema_path(folder, name)}"
            for name in stale_schemas(models, folder)
        ]
        known = {schema_path(folder, name).name for name in models}
        stale += [
            f"no such model: {path}"
            for path in sorted(folder.glob("*.schema.json"))
            if path.name not in known
        ]
    for line in stale:
        err.print(line, markup=False)
    if stale:
        raise SchemasStale(
            f"{len(stale)} schema(s) out of date; run: streamctl schema export {' '.join(map(str, pipelines))} --out {schema_dir}"
        )
    out.print("schemas are current", markup=False)


@schema_app.command("pipeline")
def pipeline(
    out_file: Path | None = typer.Option(
        None, "--out", "-o", help="Write the schema to this file (default: stdout).", metavar="FILE"
    ),
    check_file: Path | None = typer.Option(
        None,
        "--check",
        help="Exit 1 when this file is not the current schema (for CI; 2 when it cannot be read).",
        metavar="FILE",
    ),
    plugins: bool = typer.Option(
        False, "--plugins", help="Include the steps of installed streamctl.steps plugins."
    ),
    tests: bool = typer.Option(
        False, "--tests", help="The schema of NAME_test.yaml files (tests: only) instead."
    ),
) -> None:
    """Print the JSON Schema (Draft 2020-12) of pipeline files, for editors and CI.

    It is built from the declarations the loader checks against (keys, types,
    defaults, every step's argument schema). Name it on a pipeline file's first line
    for completion and checks in editors with the YAML language server:
    # yaml-language-server: $schema=../schemas/pipeline.schema.json
    (--tests: the schema of NAME_test.yaml files, schemas/pipeline-test.schema.json)

    Example: streamctl schema pipeline --out schemas/pipeline.schema.json
    """
    from streamctl.pipeline.pipelineschema import pipeline_schema, render, test_file_schema

    text = render(test_file_schema() if tests else pipeline_schema(plugins=plugins))
    if check_file is not None:
        try:
            current = check_file.read_text(encoding="utf-8")
        except OSError as exc:
            # a file that is not there is bad input (exit 2), not a stale schema (exit 1)
            raise ConfigurationError(
                f"--check {check_file}: cannot read it: {exc.strerror or exc}; write it with "
                f"streamctl schema pipeline{' --tests' if tests else ''} --out {check_file}"
            ) from None
        if current != text:
            flag = " --tests" if tests else ""
            raise SchemasStale(
                f"{check_file} is not the current pipeline schema; run: "
                f"streamctl schema pipeline{flag} --out {check_file}"
            )
        out.print(f"{check_file} is current", markup=False)
        return
    if out_file is not None:
        write_file(out_file, text, "--out")
        out.print(str(out_file), markup=False)
        return
    out.print(text, markup=False, end="")
