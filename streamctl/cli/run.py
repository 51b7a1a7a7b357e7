"""``streamctl run``: run a pipeline's worker with a live status line."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from streamctl.cli.common import (
    BrokerOpt,
    BrokerSettingOpt,
    DatadirOpt,
    err,
    load_for_cli,
    parse_broker_settings,
    redact_secrets,
    setup_logging,
)
from streamctl.cli.output import number
from streamctl.cli.tables import RecoveryProgress
from streamctl.redact import mask_url

if TYPE_CHECKING:
    from streamctl.worker import WorkerStats

log = logging.getLogger("streamctl.cli")


def run(
    pipeline: Path = typer.Argument(..., help="Pipeline file to run.", show_default=False),
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
    extra = parse_broker_settings(broker_setting)
    loaded = load_for_cli(pipeline, broker, datadir, broker_settings=extra)
    for warning in loaded.warnings:
        log.warning("%s", warning)
    app = loaded.app
    redact_secrets(app.conf.broker_settings)
    _ = app.transport  # a malformed broker URL is refused here, before any line quotes it
    status = _Status(app.id)
    # a progress bar for long changelog replays on a terminal (besides the worker's own
    # log line per partition)
    bar = RecoveryProgress()
    worker = app.worker(until_idle=until_idle, on_stats=status.update, on_recovery=bar)
    log.info(
        "running %s: app %s on %s (data dir %s), %d agent(s), %d table(s)",
        pipeline,
        app.id,
        mask_url(app.conf.broker),
        app.conf.datadir,
        len(app.agents),
        len(app.tables),
    )
    from streamctl.cli.observe import control, serve_if_asked, write_summary

    server = serve_if_asked(worker, metrics_port)
    channel = control(worker)
    try:
        code = worker.run()
    finally:
        if channel is not None:
            channel.close()
        bar.close()
        status.close()
        if server is not None:
            server.close()
    if summary == "json":
        write_summary(worker)
    s = worker.stats
    log.info(
        "processed %s source event(s) in %.1fs (%s dead-lettered, %s skipped%s), lag %s",
        number(s.processed),
        time.monotonic() - s.started,
        number(s.dead_lettered),
        number(s.skipped),
        f", {number(s.repartitioned)} repartitioned" if s.repartitioned else "",
        number(s.lag),
    )
    raise typer.Exit(code)


class _Status:
    """A rich live line on a terminal; a log line every 10 s otherwise."""

    def __init__(self, app_id: str) -> None:
        self.app_id = app_id
        self.live = None
        self.last_log = time.monotonic()
        if sys.stderr.isatty():
            from rich.live import Live

            self.live = Live("", console=err, refresh_per_second=4, transient=True)
            self.live.start()

    def line(self, stats: WorkerStats) -> str:
        s = stats
        return (
            f"{self.app_id}: {number(s.processed)} events · {s.rate:,.0f} ev/s · "
            f"lag {number(s.lag)}"
            + (f" · {number(s.dead_lettered)} dead-lettered" if s.dead_lettered else "")
            + (f" · {number(s.repartitioned)} repartitioned" if s.repartitioned else "")
            + (f" · {number(s.skipped)} skipped" if s.skipped else "")
        )

    def update(self, stats: WorkerStats) -> None:
        if self.live is not None:
            self.live.update(self.line(stats))
        elif time.monotonic() - self.last_log >= 10:
            self.last_log = time.monotonic()
            log.info(self.line(stats))

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
