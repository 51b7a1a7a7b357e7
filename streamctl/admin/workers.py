"""Running workers' control channels: where each is registered, and asking one.

A worker started by ``streamctl run`` serves its tables on a control channel: HTTP on
the loopback interface only, on a port of its own (never the public web view's), each
request authenticated by a random token. It registers the channel in the data dir,
``<datadir>/workers/<app>/<pid>.json`` (``{"url", "token", "pid", "worker_id"}``,
mode 0600 in a 0700 directory): whoever can read the data dir, and only they, can
read and change a running worker's tables (as whoever can write the data dir can change
its stores). ``streamctl table get/dump/set/del`` find live workers here; an entry
whose process is gone is ignored (reads never write: it is left for the next worker).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streamctl.tables.exceptions import TableError
from streamctl.transport.local.groups import pid_alive

#: seconds a request to a worker may take (it answers between two batches)
TIMEOUT = 30.0


class WorkerUnreachable(TableError):
    """A registered worker did not answer its control channel."""


@dataclass(frozen=True)
class Endpoint:
    """One running worker's control channel."""

    url: str
    token: str
    pid: int
    worker_id: str
    path: Path


def registry_dir(datadir: Path, app_id: str) -> Path:
    """Where an app's workers register their control channels."""
    return Path(datadir) / "workers" / app_id


def register(datadir: Path, app_id: str, url: str, token: str, worker_id: str) -> Path:
    """Write this process's entry (mode 0600); returns its path (remove it on exit)."""
    folder = registry_dir(datadir, app_id)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)
    path = folder / f"{os.getpid()}.json"
    body = {"url": url, "token": token, "pid": os.getpid(), "worker_id": worker_id}
    fd = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(body, f)
    os.replace(path.with_suffix(".tmp"), path)
    return path


def live(datadir: Path, app_id: str) -> list[Endpoint]:
    """The registered workers of ``app_id`` whose process still runs (reads only)."""
    folder = registry_dir(datadir, app_id)
    found = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            body = json.loads(path.read_text())
            endpoint = Endpoint(
                str(body["url"]), str(body["token"]), int(body["pid"]), str(body["worker_id"]), path
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue  # being written, or not ours
        if pid_alive(endpoint.pid):
            found.append(endpoint)
    return found


def ask(endpoint: Endpoint, op: str, **payload: Any) -> dict[str, Any]:
    """POST ``payload`` to ``op`` on the worker's channel; its JSON answer. Raises
    WorkerUnreachable when it does not answer, TableError with its message on an error."""
    request = urllib.request.Request(
        endpoint.url + op,
        data=json.dumps(payload).encode(),
        headers={"Authorization": f"Bearer {endpoint.token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as resp:
            answer: dict[str, Any] = json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read()).get("error", str(exc))
        except ValueError:
            message = str(exc)
        error = TableError(f"worker {endpoint.worker_id} (pid {endpoint.pid}): {message}")
        error.exit_code = 2 if exc.code == 400 else 1
        raise error from None
    except (OSError, ValueError) as exc:
        raise WorkerUnreachable(
            f"worker {endpoint.worker_id} (pid {endpoint.pid}) did not answer on "
            f"{endpoint.url}: {exc}"
        ) from None
    return answer
