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
) -> None:
    """Run a pipeline: consume its topics, run its agents, update its tables.

    Stops cleanly on Ctrl-C or SIGTERM (finishes the batch, commits, exits 0).

    Example: streamctl run pipelines/quickstart.yaml --until-idle
    """
    setup_logging(log_level)
    raise typer.Exit(
        execute(pipeline, broker, datadir, until_idle=until_idle, broker_setting=broker_setting)
    )
