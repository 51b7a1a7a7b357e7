"""``streamctl table`` against running workers, through their control channels.

Each function returns None when no worker of the app runs on this data dir (the caller
then reads or writes the local stores, as before); otherwise it asks the workers in
turn, and the one holding the key's partition answers (``streamctl.observe.control``).
Reads see what the worker sees, writes not yet committed included; writes go into the
worker's next commit. A worker that does not answer is passed over; when none answers, a
read returns None (the local stores: what the workers last committed) and a write
raises WorkerUnreachable. Partitions no answering worker holds (their owner runs on
another data dir or machine and does not announce its channel) are read from their
changelogs, as a read with no worker running reads them: ``get`` and ``items`` name
them (``Unheld``) for the caller to read with ``streamctl.admin.tables``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from streamctl.admin import workers
from streamctl.admin.tables import KeyNotFound, table_named
from streamctl.admin.windows import keys_typed, merge_rows, window_rows
from streamctl.naming import consumer_group
from streamctl.tables.exceptions import TableError


def endpoints(app: Any) -> list[workers.Endpoint]:
    """The control channels of ``app``'s running workers: those registered in its data
    dir, then those announced in its consumer group (Kafka: workers on other machines)."""
    found = workers.live(app.conf.datadir, app.id)
    known = {e.worker_id for e in found}
    group = consumer_group(app.id)
    return found + [e for e in workers.announced(app.transport, group) if e.worker_id not in known]


def _ask_all(app: Any, op: str, **payload: Any) -> list[dict[str, Any]] | None:
    """Every live worker's answer to ``op`` (None: no worker registered, or none answered)."""
    answers, unreachable = [], []
    for endpoint in endpoints(app):
        try:
            answers.append(workers.ask(endpoint, op, **payload))
        except workers.WorkerUnreachable as exc:
            unreachable.append(exc)
    if not answers:
        if unreachable and op in ("set", "del"):
            raise unreachable[0]
        return None
    return answers


@dataclass(frozen=True)
class Unheld:
    """No answering worker holds these partitions of the table (ascending): read them
    from their changelogs (``streamctl.admin.tables.get``/``items`` with ``unheld``)."""

    partitions: list[int]


def _unheld(app: Any, name: str, answers: list[dict[str, Any]]) -> list[int]:
    """The table's partitions none of ``answers`` holds."""
    held = {int(p) for answer in answers for p in answer.get("held", ())}
    return sorted(set(range(table_named(app, name).partitions)) - held)


def get(app: Any, name: str, text: str) -> tuple[Any, Any] | Unheld | None:
    """(key, value) of the key typed as ``text``; KeyNotFound when the worker holding its
    partition does not have it; Unheld when no answering worker holds that partition."""
    answers = _ask_all(app, "get", table=name, key=text)
    if answers is None:
        return None
    for answer in answers:
        if answer.get("found"):
            return answer["key"], answer["value"]
    if any(answer.get("owner") for answer in answers):
        raise KeyNotFound(f"table {name!r} has no key {answers[0].get('key', text)!r}")
    return Unheld(_unheld(app, name, answers))


def items(app: Any, name: str) -> tuple[list[tuple[Any, Any]], Unheld] | None:
    """Every key and value the running workers hold (each partition is one worker's),
    and the partitions none of them holds (to read from their changelogs)."""
    answers = _ask_all(app, "items", table=name)
    if answers is None:
        return None
    pairs = [(k, v) for answer in answers for k, v in answer["items"]]
    return pairs, Unheld(_unheld(app, name, answers))


def windows(
    app: Any, name: str, text: str | None, progress: Any = None
) -> list[dict[str, Any]] | None:
    """The windows of the key typed as ``text`` (None: every key) that the running workers
    hold, and those of the partitions none of them holds from their changelogs, as
    ``streamctl.admin.windows.window_rows`` gives them; None: no worker runs."""
    answers = _ask_all(app, "windows", table=name, key=text)
    if answers is None:
        return None
    parts = [answer["rows"] for answer in answers]
    unheld = _unheld(app, name, answers)
    if unheld:
        keys = None if text is None else keys_typed(text)
        parts.append(window_rows(app, name, keys, progress, unheld))
    return merge_rows(parts)


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


def ask_peers(
    peers: list[workers.Endpoint], name: str, text: str, *, windowed: bool
) -> dict[str, Any] | None:
    """The first of ``peers`` (other workers' channels) that has the key typed as ``text``:
    ``{"key", "value", "worker"}``, a windowed table's value being its windows as
    ``streamctl table get`` lists them; None when none has it. A peer that does not
    answer is passed over (the web view's lookup of a key held by another worker)."""
    for peer in peers:
        try:
            if windowed:
                rows = workers.ask(peer, "windows", table=name, key=text)["rows"]
                if rows:
                    value = [{k: v for k, v in r.items() if k != "key"} for r in rows]
                    return {"key": rows[0]["key"], "value": value, "worker": peer.worker_id}
                continue
            answer = workers.ask(peer, "get", table=name, key=text)
        except TableError:  # unreachable, or an error of its own: the next one
            continue
        if answer.get("found"):
            return {"key": answer["key"], "value": answer["value"], "worker": peer.worker_id}
    return None
