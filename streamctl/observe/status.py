"""What the web view and the run summary show: JSON-ready snapshots of a worker.

Figures come from the worker's stats; table values are read on the worker's loop
(:meth:`Worker.call`), between two batches, so a lookup sees what the worker sees
(its buffered writes too) and never a half-applied batch.
"""

from __future__ import annotations

import json
import time
from typing import Any

from streamctl.worker import Worker, WorkerStats

#: seconds a read waits for the worker's loop before giving up
READ_TIMEOUT = 10.0


def plain(obj: Any) -> Any:
    """``obj`` as JSON values: records as their fields, sets as sorted lists, tuples as lists."""
    if isinstance(obj, (set, frozenset)):
        return sorted((plain(x) for x in obj), key=lambda x: json.dumps(x, default=str))
    if isinstance(obj, (list, tuple)):
        return [plain(x) for x in obj]
    if isinstance(obj, dict):
        return {k if isinstance(k, str) else json.dumps(plain(k)): plain(v) for k, v in obj.items()}
    if isinstance(obj, bytes):
        return obj.decode("utf-8", "backslashreplace")
    rep = getattr(obj, "to_representation", None) or getattr(obj, "asdict", None)
    if rep is not None:
        return plain(rep())
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return str(obj)


def summary(stats: WorkerStats, tables: dict[str, int]) -> dict[str, Any]:
    """The run summary (``streamctl run --summary json``): events in and out per topic,
    dead letters, table sizes (keys), late events dropped per windowed table, duration
    (seconds) and events per second."""
    duration = time.monotonic() - stats.started
    return {
        "events_in": dict(sorted(stats.received.items())),
        "events_out": dict(sorted(stats.sent.items())),
        "processed": stats.processed,
        "repartitioned": stats.repartitioned,
        "dead_lettered": stats.dead_lettered,
        "skipped": stats.skipped,
        "dead_letters": {f"{a}:{r}": n for (a, r), n in sorted(stats.dead_letters.items())},
        "changelog_records": dict(sorted(stats.changelog_records.items())),
        "tables": dict(sorted(tables.items())),
        "late_dropped": dict(sorted(stats.late_dropped.items())),
        "lag": stats.lag,
        "duration_seconds": round(duration, 3),
        "events_per_second": round(stats.processed / duration, 1) if duration > 0 else 0.0,
    }


def status(worker: Worker) -> dict[str, Any]:
    """``/api/status``: the worker's figures now (thread-safe copies of its stats)."""
    s = worker.stats
    out = summary(s, dict(s.table_sizes))
    out.update(
        app=worker.app.id,
        ready=s.ready,
        rate=round(s.rate, 1),
        commits=s.commits.count,
        rebalances=s.rebalances,
        broker_outages=s.broker_outages,
        agents=[
            {"agent": a, "topic": t, "events": n}
            for (a, t), n in sorted(dict(s.agent_events).items())
        ],
        partitions=[
            {"topic": tp.topic, "partition": tp.partition, "lag": n}
            for tp, n in sorted(dict(s.partition_lag).items())
        ],
        last_reasons=[
            {"time": t, "who": who, "reason": reason, "message": msg}
            for t, who, reason, msg in list(s.last_reasons)
        ],
        recovery=[
            {"table": t, "partition": p, "done": d, "total": n}
            for (t, p), (d, n) in sorted(dict(s.recovery).items())
        ],
    )
    return out


def tables(worker: Worker) -> list[dict[str, Any]]:
    """``/api/tables``: every table with its kind and size (keys in this worker's partitions)."""
    sizes = dict(worker.stats.table_sizes)
    return [
        {
            "name": name,
            "keys": sizes.get(name),
            "partitions": t.partitions,
            "global": t.is_global,
            "windowed": t.window is not None,
            "changelog": t.changelog_topic.name,
        }
        for name, t in sorted(worker.app.tables.items())
    ]


def key_candidates(table: Any, text: str) -> list[Any]:
    """The keys a typed ``text`` may stand for, best first: the table's key type, or text
    for text-keyed streams, else its JSON, the text and its bytes (as ``streamctl table``)."""
    if table.key_type is None and table.source_key_codec == "raw":
        return [text]
    try:
        parsed: Any = json.loads(text)
    except ValueError:
        parsed = text
    if table.key_type is str:
        return [text]
    if table.key_type is not None:
        return [parsed]
    return [parsed, text, text.encode()]


def read_key(table: Any, text: str) -> tuple[bool, Any, Any]:
    """(found, key, value) of ``table``'s key typed as ``text``, read where the worker reads
    (run it on the worker's loop). A windowed table's value is the list of the key's
    windows, ``{"start", "end", "value", "state"}`` as ``streamctl table get`` lists them."""
    if table.window is not None:
        from streamctl.admin import windows  # the admin modules: only when asked

        found = windows.rows(table, windows.keys_typed(text))
        if not found:
            return False, text, None
        return (
            True,
            found[0]["key"],
            [{k: plain(v) for k, v in r.items() if k != "key"} for r in found],
        )
    for key in key_candidates(table, text):
        if key in table:
            return True, key, plain(table[key])
    return False, text, None


def lookup(worker: Worker, name: str, text: str) -> dict[str, Any] | None:
    """``/api/tables/NAME/KEY``: ``{"table", "key", "found", "value"}``, None for an
    unknown table. A key this worker does not have, of a table some of whose partitions
    other workers hold, is asked of them (their control channels, registered in the data
    dir or announced in the group, as ``streamctl table get`` finds them); their answer
    adds ``"worker"``, the id of the worker that has it (Faust answers from the owner
    too: ``app.table_route``). Raises TimeoutError when this worker's loop does not
    answer within :data:`READ_TIMEOUT` seconds."""
    table = worker.app.tables.get(name)
    if table is None:
        return None
    call = worker.call(lambda: (*read_key(table, text), len(table.held)))
    found, key, value, held = call.result(READ_TIMEOUT)
    # a key of a partition held elsewhere (not every partition is here): ask the others
    if not found and not table.is_global and held < table.partitions:
        answer = _from_peers(worker, table, text)
        if answer is not None:
            return {"table": name, "found": True, **answer}
    return {"table": name, "key": plain(key), "found": found, "value": value}


def _from_peers(worker: Worker, table: Any, text: str) -> dict[str, Any] | None:
    """The answer of the other running worker that has the key (None: none has it)."""
    from streamctl.admin import remote  # the admin modules: only when asked

    me = worker.app.conf.transactional_id
    # found on the loop: the group's description uses the transport the worker uses
    peers = worker.call(lambda: remote.endpoints(worker.app)).result(READ_TIMEOUT)
    others = [p for p in peers if p.worker_id != me]
    return remote.ask_peers(others, table.name, text, windowed=table.window is not None)
