"""``streamctl run``'s production options: the metrics and web server, the run summary."""

from __future__ import annotations

import errno
import json
import logging
import sys
from typing import TYPE_CHECKING

from streamctl.exceptions import ConfigurationError

if TYPE_CHECKING:
    from streamctl.observe.control import ControlServer
    from streamctl.observe.server import WebServer
    from streamctl.worker import Worker

log = logging.getLogger("streamctl.cli")


def serve_if_asked(worker: Worker, port: int | None) -> WebServer | None:
    """Serve metrics and the web view on ``port`` (else the setting ``metrics_port``; None:
    not served) and the setting ``web_host``. ConfigurationError if it cannot bind."""
    conf = worker.app.conf
    port = conf.metrics_port if port is None else port
    if port is None:
        return None
    from streamctl.observe import serve

    try:
        server = serve(worker, port, conf.web_host)
    except OSError as exc:
        raise _cannot_bind("metrics", "web_host", conf.web_host, port, exc) from None
    log.info("metrics on %smetrics, web view on %s", server.url, server.url)
    return server


def _cannot_bind(what: str, setting: str, host: str, port: int, exc: OSError) -> Exception:
    if exc.errno == errno.EADDRINUSE:
        hint = "choose another --metrics-port, or 0 for any free port"
    else:
        hint = f"set {setting} to an address of this machine, or 0.0.0.0 for every interface"
    return ConfigurationError(
        f"cannot serve {what} on {host}:{port}: {exc.strerror or exc} ({hint})"
    )


def control(worker: Worker) -> ControlServer | None:
    """The worker's control channel for ``streamctl table`` (token in the data dir); None
    when it cannot be registered (the worker then says what is wrong with the data dir,
    or runs without it). ConfigurationError when the setting ``control_host`` names an
    address this machine cannot bind."""
    from streamctl.admin.workers import LOOPBACK
    from streamctl.observe.control import ControlServer

    host = worker.app.conf.control_host
    try:
        channel = ControlServer(worker)
    except OSError as exc:
        if host not in LOOPBACK:
            raise _cannot_bind("the control channel", "control_host", host, 0, exc) from None
        log.debug("no control channel: %s", exc)
        return None
    try:
        return channel.start()
    except OSError as exc:
        channel.close()
        log.debug("no control channel: %s", exc)
        return None


def write_summary(worker: Worker) -> None:
    """One JSON object on stdout: the run's figures (``streamctl.observe.status.summary``)."""
    from streamctl.observe.status import summary

    sys.stdout.write(json.dumps(summary(worker.stats, worker.final_table_sizes)) + "\n")
    sys.stdout.flush()
