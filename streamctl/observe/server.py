"""The worker's HTTP server: Prometheus metrics, the web view and its JSON, read-only.

``GET /metrics`` (Prometheus text format), ``/`` (a self-contained page: no external
scripts or styles), ``/api/status``, ``/api/tables``, ``/api/tables/NAME/KEY``,
``/healthz`` (200 while the worker runs) and ``/readyz`` (200 once its tables are
recovered, else 503), to GET and HEAD. POST, PUT, DELETE, PATCH, OPTIONS, TRACE and
CONNECT are refused with 405 (an unknown method gets 501): nothing here writes (table
writes go through the control channel, ``control.py``). A ``ThreadingHTTPServer`` in
a daemon thread; table reads run on the worker's loop (``status.lookup``). A client has
:data:`REQUEST_TIMEOUT` seconds to send each request, then its connection is closed.
"""

from __future__ import annotations

import json
import threading
from http import HTTPStatus
from http.server import ThreadingHTTPServer
from importlib.resources import files
from urllib.parse import unquote, urlsplit

from streamctl.observe import metrics, status
from streamctl.observe.handler import JsonHandler
from streamctl.worker import Worker


class _Handler(JsonHandler):
    server: WebServer

    def do_HEAD(self) -> None:
        self._head = True
        self.do_GET()

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        worker = self.server.worker
        if path == "/metrics":
            self._send(200, metrics.exposition(self.server.registry), metrics.CONTENT_TYPE)
        elif path in ("/", "/index.html"):
            self._send(200, self.server.page, "text/html; charset=utf-8")
        elif path == "/healthz":
            self._json(200, {"status": "ok"})
        elif path == "/readyz":
            ready = worker.stats.ready
            self._json(200 if ready else 503, {"ready": ready})
        elif path == "/api/status":
            self._json(200, status.status(worker))
        elif path == "/api/tables":
            self._json(200, status.tables(worker))
        elif path.startswith("/api/tables/") and path.count("/") == 4:
            _, _, _, name, key = path.split("/")
            self._lookup(unquote(name), unquote(key))
        else:
            self._json(404, {"error": f"no such page {path!r}"})

    def _lookup(self, name: str, key: str) -> None:
        try:
            found = status.lookup(self.server.worker, name, key)
        except TimeoutError:
            self._json(503, {"error": "the worker did not answer in time"})
            return
        except Exception as exc:  # a value that does not decode: say so, keep serving
            self._json(500, {"error": f"{type(exc).__name__}: {exc}"})
            return
        if found is None:
            self._json(404, {"error": f"no table {name!r}", "found": False})
        else:
            self._json(200 if found["found"] else 404, found)

    def _refuse(self) -> None:
        self.send_response(HTTPStatus.METHOD_NOT_ALLOWED)
        body = json.dumps({"error": "this server is read-only: GET and HEAD only"}).encode()
        self.send_header("Allow", "GET, HEAD")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = _refuse

    def _send(self, code: int, body: bytes, content_type: str, *, head: bool = False) -> None:
        super()._send(code, body, content_type, head=getattr(self, "_head", False))


class WebServer(ThreadingHTTPServer):
    """Serves one worker's metrics and web view on ``host:port`` (port 0: any free one)."""

    daemon_threads = True

    def __init__(self, worker: Worker, host: str, port: int) -> None:
        super().__init__((host, port), _Handler)
        self.worker = worker
        self.registry = metrics.registry_for(worker.stats)
        self.page = files("streamctl.observe").joinpath("page.html").read_bytes()
        self._thread = threading.Thread(
            target=self.serve_forever, name="streamctl-web", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        if isinstance(host, bytes):
            host = host.decode()
        return f"http://{host}:{port}/"

    def start(self) -> WebServer:
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread.is_alive():
            self.shutdown()  # waits for serve_forever: only when it runs
        self.server_close()
