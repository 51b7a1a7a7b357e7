"""``streamctl validate``: load pipeline files without running anything."""

from __future__ import annotations

from pathlib import Path

import typer

from streamctl.cli.common import err, out
from streamctl.pipeline import check_pipeline


def validate(
    pipelines: list[Path] = typer.Argument(
        ..., help="Pipeline files to check.", show_default=False
    ),
) -> None:
    """Check pipeline files and report every problem as file:line:column.

    Exit 0 when all are clean, 1 when any has a problem. Nothing is run or written.

    Example: streamctl validate pipelines/*.yaml
    """
    failed = False
    for path in pipelines:
        problems = check_pipeline(path)
        for problem in problems:
            err.print(str(problem), markup=False)
        if problems:
            failed = True
        else:
            out.print(f"ok: {path}", markup=False)
    if failed:
        raise typer.Exit(1)
