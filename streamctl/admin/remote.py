"""``streamctl table`` against running workers, through their control channels.

Each function returns None when no worker of the app runs on this data dir (the caller
then reads or writes the local stores, as before); otherwise it asks the workers in
turn, and the one holding the key's partition answers (``streamctl.observe.control``).
Reads see what the worker sees, writes not yet committed included; writes go into the
worker's next commit. A worker that does not answer is passed over; when none answers, a
read returns None (the local stores: what the workers last committed) and a write
raises WorkerUnreachable.
"""

from __future__ import annotations

from typing import Any

from streamctl.admin import workers
from streamctl.admin.tables import KeyNotFound
from streamctl.admin.windows import merge_rows
from streamctl.naming import consumer_group
from streamctl.tables.exceptions import TableError


def _ask_all(app: Any, op: str, **payload: Any) -> list[dict[str, Any]] | None:
    """Every live worker's answer to ``op`` (None: no worker registered, or none answered)."""
    endpoints = workers.live(app.conf.datadir, app.id)
    known = {e.worker_id for e in endpoints}
    # workers on other machines (Kafka): announced in the group, not in this data dir
    group = consumer_group(app.id)
    endpoints += [e for e in workers.announced(app.transport, group) if e.worker_id not in known]
    answers, unreachable = [], []
    for endpoint in endpoints:
        try:
            answers.append(workers.ask(endpoint, op, **payload))
        except workers.WorkerUnreachable as exc:
            unreachable.append(exc)
    if not answers:
        if unreachable and op in ("set", "del"):
            raise unreachable[0]
        return None
    return answers


def get(app: Any, name: str, text: str) -> tuple[Any, Any] | None:
    """(key, value) of the key typed as ``text``; KeyNotFound when no worker holds it."""
    answers = _ask_all(app, "get", table=name, key=text)
    if answers is None:
        return None
    for answer in answers:
        if answer.get("found"):
            return answer["key"], answer["value"]
    raise KeyNotFound(f"table {name!r} has no key {answers[0].get('key', text)!r}")


def items(app: Any, name: str) -> list[tuple[Any, Any]] | None:
    """Every key and value the running workers hold (each partition is one worker's)."""
    answers = _ask_all(app, "items", table=name)
    if answers is None:
        return None
    return [(k, v) for answer in answers for k, v in answer["items"]]


def windows(app: Any, name: str, text: str | None) -> list[dict[str, Any]] | None:
    """The windows of the key typed as ``text`` (None: every key) that the running workers
    hold, as ``streamctl.admin.windows.window_rows`` gives them; None: no worker runs."""
    answers = _ask_all(app, "windows", table=name, key=text)
    if answers is None:
        return None
    return merge_rows([answer["rows"] for answer in answers])


def put(app: Any, name: str, text: str, value: str) -> tuple[Any, Any] | None:
    """Set the key typed as ``text`` to ``value`` (as typed) on the worker owning it."""
    answers = _ask_all(app, "set", table=name, key=text, value=value)
    if answers is None:
        return None
    for answer in answers:
        if answer.get("owner"):
            return answer["key"], answer["value"]
    raise _no_owner(name, text)


def delete(app: Any, name: str, text: str) -> Any:
    """Delete the key typed as ``text`` on the worker holding it; returns the key (None: no
    worker runs). KeyNotFound when the owner does not hold it."""
    answers = _ask_all(app, "del", table=name, key=text)
    if answers is None:
        return None
    for answer in answers:
        if answer.get("owner"):
            if not answer.get("found"):
                raise KeyNotFound(f"table {name!r} has no key {answer.get('key', text)!r}")
            return answer["key"]
    raise _no_owner(name, text)


def _no_owner(name: str, text: str) -> TableError:
    return TableError(
        f"no running worker holds the partition of key {text!r} of table {name!r} (a "
        "rebalance in progress?): try again in a moment"
    )
