"""What ``streamctl run`` does, without Typer: load the pipeline, run its worker, report.

:mod:`streamctl.cli.run` is the Typer command; :mod:`streamctl.cli.main` calls
:func:`execute` directly for a plain ``streamctl run PIPELINE ...`` so the embedded
broker's first event is not held up by importing the whole command tree (#14).
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from streamctl.cli.plain import (
    RecoveryProgress,
    console,
    json_lines,
    load_for_cli,
    number,
    parse_broker_settings,
    redact_secrets,
)
from streamctl.redact import mask_url

if TYPE_CHECKING:
    from streamctl.worker import WorkerStats

log = logging.getLogger("streamctl.cli")


def execute(
    pipeline: Path,
    broker: str | None,
    datadir: Path | None,
    *,
    until_idle: bool = False,
    broker_setting: list[str] | None = None,
    metrics_port: int | None = None,
    summary: str | None = None,
) -> int:
    """Run ``pipeline``'s worker until stopped (or drained, with ``until_idle``); returns
    the exit code (0). Logging is the caller's to set up. Raises StreamctlError for bad
    input (exit 2) or a failure at run time (exit 1).

    ``metrics_port``: serve metrics and the web view there (None: the setting
    ``metrics_port``, unset by default); ``summary="json"``: print the run's summary on
    stdout as it ends. Every worker also serves its tables on a control channel
    (``streamctl.observe.control``)."""
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
    channel = None
    try:
        channel = control(worker)
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
    late = sum(s.late_dropped.values())
    log.info(
        "processed %s source event(s) in %.1fs (%s dead-lettered, %s skipped%s%s), lag %s",
        number(s.processed),
        time.monotonic() - s.started,
        number(s.dead_lettered),
        number(s.skipped),
        f", {number(s.repartitioned)} repartitioned" if s.repartitioned else "",
        ", {} late dropped ({})".format(
            number(late),
            ", ".join(f"table {t} {number(n)}" for t, n in sorted(s.late_dropped.items()) if n),
        )
        if late
        else "",
        number(s.lag),
    )
    return code


class _Status:
    """A rich live line on a terminal; a log line every 10 s otherwise."""

    def __init__(self, app_id: str) -> None:
        self.app_id = app_id
        self.live: Any = None
        self.last_log = time.monotonic()
        if sys.stderr.isatty() and not json_lines():  # JSON logs: log lines only
            from rich.live import Live

            self.live = Live("", console=console(stderr=True), refresh_per_second=4, transient=True)
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
