"""What both HTTP servers of a worker (the web view, the control channel) share in
their handlers: a read timeout, no log line per request, JSON answers."""

from __future__ import annotations

import json
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any

#: seconds a client may take to send its request (a slow or idle client is then dropped,
#: so it cannot hold a thread of the worker's process forever)
REQUEST_TIMEOUT = 10.0


class JsonHandler(BaseHTTPRequestHandler):
    """What both of a worker's servers' handlers share: a read timeout, no per-request
    log line, JSON answers."""

    timeout = REQUEST_TIMEOUT

    def log_message(self, format: str, *args: Any) -> None:
        pass  # no line per request on the worker's log

    def _json(self, code: int, body: Any) -> None:
        self._send(code, json.dumps(body, default=str).encode(), "application/json")

    def _send(self, code: int, body: bytes, content_type: str, *, head: bool = False) -> None:
        self.send_response(HTTPStatus(code))
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if not head:
            self.wfile.write(body)
