"""``streamctl run``: run a pipeline's worker with a live status line (the Typer command;
the work is :func:`streamctl.cli.runner.execute`'s)."""

from __future__ import annotations

from pathlib import Path

import typer

from streamctl.cli.common import BrokerOpt, BrokerSettingOpt, DatadirOpt, setup_logging
from streamctl.cli.runner import execute


def run(
    pipeline: Path = typer.Argument(
        ..., help="Pipeline file, or a Python app as package.module:app.", show_default=False
    ),
    broker: str = BrokerOpt,
    datadir: Path = DatadirOpt,
    until_idle: bool = typer.Option(
        False,
        "--until-idle",
        help="Exit 0 once the group's input is drained: this worker's partitions read to "
        "their ends, every other source partition committed to its end, nothing in flight.",
    ),
    log_level: str = typer.Option(
        "info", "--log-level", help="debug, info, warning or error.", metavar="LEVEL"
    ),
    broker_setting: list[str] = BrokerSettingOpt,
    metrics_port: int | None = typer.Option(
        None,
        "--metrics-port",
        help="Serve Prometheus metrics (/metrics), a web view (/) and JSON (/api/...) on "
        "this port (0: any free port), on the setting web_host (default 127.0.0.1). "
        "Overrides the setting metrics_port.",
        metavar="PORT",
    ),
    log_format: str = typer.Option(
        "text", "--log-format", help="text, or json: one JSON object per line.", metavar="FORMAT"
    ),
    summary: str | None = typer.Option(
        None,
        "--summary",
        help="json: print a summary of the run on stdout as it ends (events in and out per "
        "topic, dead letters, table sizes, duration, events/s).",
        metavar="FORMAT",
    ),
) -> None:
    """Run a pipeline: consume its topics, run its agents, update its tables.

    Stops cleanly on Ctrl-C or SIGTERM (finishes the batch, commits, exits 0).

    Example: streamctl run pipelines/quickstart.yaml --until-idle
    """
    setup_logging(log_level, log_format)
    if metrics_port is not None and not 0 <= metrics_port <= 65535:
        raise typer.BadParameter("must be a port number (0-65535)", param_hint="--metrics-port")
    if summary not in (None, "json"):
        raise typer.BadParameter(
            f"unknown summary format {summary!r} (json)", param_hint="--summary"
        )
    raise typer.Exit(
        execute(
            pipeline,
            broker,
            datadir,
            until_idle=until_idle,
            broker_setting=broker_setting,
            metrics_port=metrics_port,
            summary=summary,
        )
    )
