"""Running in production: a worker's Prometheus metrics, web view and JSON endpoints
(``server``), the figures they show (``metrics``, ``status``), and JSON logs
(``logs``). Imported only when ``streamctl run`` serves them (``--metrics-port``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from streamctl.observe.server import WebServer
    from streamctl.worker import Worker


def serve(worker: Worker, port: int, host: str = "127.0.0.1") -> WebServer:
    """Start serving ``worker``'s metrics and web view on ``host:port`` (a daemon thread);
    the worker's stats then also count the per-event figures (latency, table sizes).
    Raises OSError when the address cannot be bound."""
    from streamctl.observe.server import WebServer

    server = WebServer(worker, host, port).start()
    worker.stats.detailed = True
    return server
