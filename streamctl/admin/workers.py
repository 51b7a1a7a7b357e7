"""Running workers' control channels: where each is registered, and asking one.

A worker started by ``streamctl run`` serves its tables on a control channel: HTTP on
the loopback interface only, on a port of its own (never the public web view's), each
request authenticated by a random token. It registers the channel in the data dir,
``<datadir>/workers/<app>/<pid>.json`` (``{"url", "token", "pid", "worker_id"}``,
mode 0600 in a 0700 directory): whoever can read the data dir, and only they, can
read and change a running worker's tables (as whoever can write the data dir can change
its stores). ``streamctl table get/dump/set/del`` find live workers here; an entry
whose process is gone is ignored (reads never write: it is left for the next worker).

On Kafka a worker also announces its channel (URL and token) in its consumer group's
member metadata, as Faust announces a worker's URL in its assignor's metadata: the table
commands on another machine find it there (``announced``). Whoever may describe the
group (Kafka's DESCRIBE ACL on it) can then read the token. By default the channel
answers on 127.0.0.1 only and is not announced; the setting ``control_host`` (an address
of this machine other machines reach, or ``0.0.0.0``) binds and announces it.
"""

from __future__ import annotations

import json
import os
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streamctl.exceptions import StreamctlError
from streamctl.tables.exceptions import TableError
from streamctl.transport.local.groups import pid_alive

#: the ``control_host`` values no other machine reaches: a channel bound there is not
#: announced in the group (the default)
LOOPBACK = ("127.0.0.1", "localhost", "::1")

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
    #: its entry in the data dir (None: announced in the group only)
    path: Path | None


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


def url_for(host: str, port: int) -> str:
    """The URL a control channel bound to ``host:port`` is reached at: a wildcard address
    (``0.0.0.0``, ``::``) by this machine's host name, an IPv6 address in brackets."""
    if host in ("", "0.0.0.0", "::"):
        host = socket.getfqdn()
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


def announcement(url: str, token: str, worker_id: str) -> str:
    """What a worker announces to its consumer group: its channel's URL and token, its
    pid and id (JSON text; ``announced`` reads it)."""
    return json.dumps(
        {"streamctl": 1, "url": url, "token": token, "pid": os.getpid(), "worker_id": worker_id}
    )


def announced(transport: Any, group_id: str) -> list[Endpoint]:
    """The control channels the live members of ``group_id`` announced (Kafka: in their
    member metadata); [] when the transport cannot tell or nobody announced one."""
    try:
        members = transport.describe_group(group_id).members
    except StreamctlError:
        return []
    found = []
    for member in members:
        try:
            body = json.loads(member.announced) if member.announced else None
            if not isinstance(body, dict) or body.get("streamctl") != 1:
                continue
            found.append(
                Endpoint(
                    str(body["url"]),
                    str(body["token"]),
                    int(body["pid"]),
                    str(body["worker_id"]),
                    None,
                )
            )
        except (ValueError, KeyError, TypeError):
            continue  # another client's user data
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
