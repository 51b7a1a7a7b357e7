"""Shared CLI plumbing: error handling, broker/datadir options, consoles."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from streamctl.exceptions import StreamctlError

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class Group(typer.core.TyperGroup):
    """Turns every StreamctlError into one line on stderr and its exit code (never a traceback)."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except StreamctlError as exc:
            err.print(f"[red]error:[/red] {exc}", markup=True, highlight=False)
            ctx.exit(exc.exit_code)


BrokerOpt = typer.Option(
    None,
    "--broker",
    "-b",
    envvar="STREAMCTL_BROKER",
    help="Broker URL (local:// or kafka://host:port); defaults to the pipeline's, else local://.",
)
DatadirOpt = typer.Option(
    None,
    "--datadir",
    "-d",
    envvar="STREAMCTL_DATADIR",
    help="Data dir of the embedded broker and table stores (default ./.streamctl).",
)
PipelineOpt = typer.Option(
    None,
    "--pipeline",
    "-p",
    help="Pipeline file: its broker, data dir and topic declarations are used.",
)


def resolve_target(
    pipeline: Path | None, broker: str | None, datadir: Path | None
) -> tuple[Any, str, Path]:
    """The App (from --pipeline, or a bare one) plus the broker URL and data dir to use."""
    from streamctl.app import App
    from streamctl.pipeline import load_pipeline
    from streamctl.settings import default_datadir

    if pipeline is not None:
        app = load_pipeline(pipeline, broker=broker, datadir=datadir).app
    else:
        app = App(
            "streamctl-cli", broker=broker or "local://", datadir=datadir or default_datadir()
        )
    return app, app.conf.broker, app.conf.datadir


def setup_logging(level: str) -> None:
    lvl = getattr(logging, level.upper(), None)
    if not isinstance(lvl, int):
        raise typer.BadParameter(f"unknown log level {level!r}")
    if sys.stderr.isatty() and not os.environ.get("NO_COLOR"):
        from rich.logging import RichHandler

        handler: logging.Handler = RichHandler(console=err, show_path=False, rich_tracebacks=False)
        fmt = "%(message)s"
    else:
        handler = logging.StreamHandler(sys.stderr)
        fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    handler.setFormatter(logging.Formatter(fmt))
    root = logging.getLogger("streamctl")
    root.handlers[:] = [handler]
    root.setLevel(lvl)
    root.propagate = False
