"""``streamctl validate``: check pipeline files as ``run`` would, without running anything."""

from __future__ import annotations

from pathlib import Path

import typer

from streamctl.cli.common import BrokerOpt, BrokerSettingOpt, err, out, parse_broker_settings
from streamctl.exceptions import ConfigurationError
from streamctl.pipeline import check_pipeline


def validate(
    pipelines: list[Path] = typer.Argument(
        ...,
        help="Pipeline files to check; a folder stands for its *.yaml and *.yml files.",
        show_default=False,
        metavar="PIPELINE...",
    ),
    broker: str = BrokerOpt,
    broker_setting: list[str] = BrokerSettingOpt,
) -> None:
    """Check pipeline files and report every problem, sorted, as file:line:column.

    Reports at once everything `run` (with the same --broker and -S) would refuse:
    YAML, structure, names (with "did you mean"), settings, broker and broker
    settings, models, tables, steps and expressions, plugin references. Plugin
    modules are looked at, never imported: nothing is run or written. Warnings
    (a constraint on a model without validation: true) do not fail the check.

    Exit 0 when no file has an error, 2 when any has one.

    Example: streamctl validate pipelines/
    """
    extra = parse_broker_settings(broker_setting)
    failed = False
    for path in _expand(pipelines):
        problems = check_pipeline(path, broker=broker, broker_settings=extra)
        for problem in problems:
            err.print(str(problem), markup=False)
        if any(not p.warning for p in problems):
            failed = True
        else:
            out.print(f"ok: {path}", markup=False)
    if failed:
        raise typer.Exit(2)


def _expand(paths: list[Path]) -> list[Path]:
    """``paths`` with each folder replaced by its ``*.yaml`` and ``*.yml`` files, sorted."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()
            )
            if not found:
                # a CI check that passes with nothing checked is worse than one that fails
                raise ConfigurationError(f"{path}: no pipeline files (*.yaml, *.yml) here")
            out += found
        else:
            out.append(path)
    return out
