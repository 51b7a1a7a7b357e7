"""The control channel: ``streamctl table get/dump/set/del`` against a running worker.

HTTP on the setting ``control_host`` (127.0.0.1 by default), on a port of its own (not
the public web view's), registered in the data dir with a random token and announced in
the consumer group (Kafka's member metadata: ``streamctl.admin.workers``); every request
must carry that token. ``POST /get``, ``/items``, ``/set``, ``/del`` with ``{"table",
"key", "value"}`` (key and value as typed on the command line), and ``/windows`` with
``{"table", "key"}`` (``key`` null: every key) for a windowed table's windows. Each runs
on the worker's loop between two batches (``Worker.call``): a read sees the worker's
buffered writes, and a write goes into the worker's next commit, through the changelog
like an agent's. A worker answers ``{"owner": false}`` for a key whose partition it
does not hold, so the caller asks the next one; ``/get`` without the key, ``/items``
and ``/windows`` also answer ``"held"``, the partitions the worker holds, so the caller reads the others
from their changelogs.
"""

from __future__ import annotations

import hmac
import json
import secrets
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from streamctl.admin import workers
from streamctl.admin.values import value_for
from streamctl.exceptions import StreamctlError
from streamctl.observe.handler import JsonHandler
from streamctl.observe.status import READ_TIMEOUT, key_candidates, plain
from streamctl.worker import Worker


def resolve(table: Any, text: str) -> Any:
    """The key ``text`` stands for: the first candidate the table holds, else the first."""
    candidates = key_candidates(table, text)
    return next((k for k in candidates if k in table), candidates[0])


def _get(table: Any, text: str) -> dict[str, Any]:
    key = resolve(table, text)
    if key in table:
        return {
            "owner": True,
            "found": True,
            "key": plain(key),
            "value": plain(table[key]),
        }
    return {"owner": table.owns(key), "found": False, "key": plain(key), "held": table.held}


def _set(table: Any, text: str, value: Any) -> dict[str, Any]:
    key = resolve(table, text)
    if not table.owns(key):
        return {"owner": False}
    table[key] = value
    return {"owner": True, "key": plain(key), "value": plain(value)}


def _del(table: Any, text: str) -> dict[str, Any]:
    key = resolve(table, text)
    if key not in table:
        return {"owner": table.owns(key), "found": False, "key": plain(key)}
    del table[key]
    return {"owner": True, "found": True, "key": plain(key)}


def _items(table: Any) -> dict[str, Any]:
    items = [[plain(k), plain(v)] for k, v in iter(table.items())]
    return {"items": items, "held": table.held}


#: the largest request body the control channel reads (bytes)
MAX_BODY = 1 << 20


class _Handler(JsonHandler):
    server: ControlServer

    def do_POST(self) -> None:
        token = self.headers.get("Authorization", "")
        if not hmac.compare_digest(token.encode(), f"Bearer {self.server.token}".encode()):
            self._json(403, {"error": "wrong or missing token"})
            return
        try:
            length = int(self.headers.get("Content-Length", "0"))
            if not 0 <= length <= MAX_BODY:
                self._json(413, {"error": f"a request body is 0 to {MAX_BODY} bytes"})
                return
            body = json.loads(self.rfile.read(length) or b"{}")
            if not isinstance(body, dict):
                raise TypeError("the body must be a JSON object")
            self._json(200, self.server.handle(self.path.strip("/"), body))
        except (ValueError, KeyError, TypeError) as exc:
            self._json(400, {"error": f"bad request: {exc}"})
        except TimeoutError:
            self._json(503, {"error": "the worker did not answer in time"})
        except StreamctlError as exc:
            self._json(400 if exc.exit_code == 2 else 500, {"error": str(exc)})
        except Exception as exc:
            self._json(500, {"error": f"{type(exc).__name__}: {exc}"})


class ControlServer(ThreadingHTTPServer):
    """One worker's control channel on the setting ``control_host`` (127.0.0.1 by
    default; a free port), registered in the data dir and announced in the group."""

    daemon_threads = True

    def __init__(self, worker: Worker) -> None:
        super().__init__((worker.app.conf.control_host, 0), _Handler)
        self.worker = worker
        self.token = secrets.token_urlsafe(32)
        self._thread = threading.Thread(
            target=self.serve_forever, name="streamctl-control", daemon=True
        )
        self.entry: Path | None = None

    def start(self) -> ControlServer:
        """Serve; register in the data dir; unless bound to the loopback interface only,
        announce to the group (before the worker joins it: Kafka carries the announcement
        in the member metadata of its join)."""
        self._thread.start()
        app = self.worker.app
        conf = app.conf
        url = workers.url_for(conf.control_host, self.server_address[1])
        self.entry = workers.register(conf.datadir, conf.id, url, self.token, conf.transactional_id)
        if conf.control_host not in workers.LOOPBACK:  # reachable from other machines
            app.transport.announce(workers.announcement(url, self.token, conf.transactional_id))
        return self

    def handle(self, op: str, body: dict[str, Any]) -> dict[str, Any]:
        """Run ``op`` on the worker's loop; its JSON answer."""
        from streamctl.admin import windows
        from streamctl.admin.tables import refuse_write, table_named

        table = table_named(self.worker.app, str(body["table"]))
        if op == "items":
            return self._call(lambda: _items(table))
        if op == "windows":
            typed = body.get("key")
            keys = None if typed is None else windows.keys_typed(str(typed))
            return self._call(
                lambda: {"rows": plain(windows.rows(table, keys)), "held": table.held}
            )
        text = str(body["key"])
        if op in ("set", "del"):
            refuse_write(table, "set" if op == "set" else "delete")
        if op == "get":
            return self._call(lambda: _get(table, text))
        if op in ("set", "del") and table.is_global:
            raise workers.TableError(
                f"table {table.name!r} is global: its changelog is its input; stop the "
                "workers to change it, or send the change to its changelog topic"
            )
        if op == "set":
            value = value_for(table, str(body["value"]))
            return self._call(lambda: _set(table, text, value))
        if op == "del":
            return self._call(lambda: _del(table, text))
        raise ValueError(f"unknown operation {op!r}")

    def _call(self, fn: Any) -> dict[str, Any]:
        answer: dict[str, Any] = self.worker.call(fn).result(READ_TIMEOUT)
        return answer

    def close(self) -> None:
        if self.entry is not None:
            self.entry.unlink(missing_ok=True)
        if self._thread.is_alive():
            self.shutdown()  # waits for serve_forever: only when it runs
        self.server_close()
