"""Compare a pipeline test's expected records and table rows with what the run wrote; readable diffs.

Modes for a topic (``match:``): ``exact`` (the default) wants the same records, and the
records of each key in the same order: Kafka keeps order per partition and a key always
lands in one partition, so that is the order a consumer can rely on whatever the
partition count. ``ordered`` wants the same records in the order read (partition by
partition, offsets ascending: for a one-partition topic, the order written);
``unordered`` the same records in any order; ``subset`` each expected record somewhere
(others allowed). An expected record compares its value, and its key, timestamp and
reason only when given (reason: the ``streamctl.error`` header contains it).
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from typing import Any

from streamctl.pipeline.builtins import plain
from streamctl.pipeline.testspec import ANY, Record


@dataclass
class Actual:
    """A record the run wrote, decoded."""

    key: Any
    value: Any
    timestamp: float
    reason: str | None = None


def canonical(obj: Any) -> str:
    """One line of JSON for ``obj`` with sorted keys (records as their fields)."""
    return json.dumps(plain(obj), sort_keys=True, ensure_ascii=False, default=str)


def _same(expected: Record, actual: Actual) -> bool:
    if canonical(expected.value) != canonical(actual.value):
        return False
    if expected.key is not ANY and canonical(expected.key) != canonical(actual.key):
        return False
    if expected.timestamp is not None and abs(expected.timestamp - actual.timestamp) > 0.0005:
        return False
    return expected.reason is None or expected.reason in (actual.reason or "")


def _line(fields: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {canonical(v)}" for k, v in fields.items()) + "}"


def _shown(expected: Record) -> str:
    fields: dict[str, Any] = {}
    if expected.key is not ANY:
        fields["key"] = expected.key
    fields["value"] = expected.value
    if expected.timestamp is not None:
        fields["timestamp"] = _when(expected.timestamp)
    if expected.reason is not None:
        fields["reason"] = expected.reason
    return _line(fields)


def _when(seconds: float) -> str:
    """Epoch seconds as ISO 8601 UTC text (milliseconds when there are any)."""
    import datetime as dt

    t = dt.datetime.fromtimestamp(seconds, dt.timezone.utc)
    text = t.isoformat(timespec="milliseconds" if t.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def _shown_actual(actual: Actual, with_time: bool, with_reason: bool) -> str:
    fields: dict[str, Any] = {"key": actual.key, "value": actual.value}
    if with_time:
        fields["timestamp"] = _when(actual.timestamp)
    if with_reason and actual.reason is not None:
        fields["reason"] = actual.reason
    return _line(fields)


def _pair(expected: list[Record], actual: list[Actual], per_key: bool) -> dict[int, int]:
    """expected index -> actual index, greedily, each actual used once; with ``per_key``
    an actual record is taken only when no earlier record of its key is still free."""
    free = list(range(len(actual)))
    keys = [canonical(a.key) for a in actual]
    pairs: dict[int, int] = {}
    for i, exp in enumerate(expected):
        for j in free:
            if per_key and any(keys[f] == keys[j] for f in free if f < j):
                continue
            if _same(exp, actual[j]):
                pairs[i] = j
                free.remove(j)
                break
    return pairs


def compare_records(
    topic: str, match: str, expected: list[Record], actual: list[Actual]
) -> str | None:
    """None when ``actual`` satisfies ``expected`` under ``match``; else a message with a
    unified diff (``-`` expected, ``+`` written)."""
    if match == "ordered":
        ok = len(expected) == len(actual) and all(map(_same, expected, actual))
        pairs = {
            i: i for i in range(min(len(expected), len(actual))) if _same(expected[i], actual[i])
        }
    else:
        pairs = _pair(expected, actual, per_key=match == "exact")
        extra = len(actual) - len(pairs)
        ok = len(pairs) == len(expected) and (match == "subset" or extra == 0)
    if ok:
        return None
    times = any(e.timestamp is not None for e in expected)
    want = [_shown(e) for e in expected]
    by_actual = {j: want[i] for i, j in pairs.items()}
    if match == "ordered":
        got = [
            by_actual.get(j) or _shown_actual(a, times, with_reason=True)
            for j, a in enumerate(actual)
        ]
    else:
        got = [by_actual[j] for _, j in sorted(pairs.items())]
        if match != "subset":
            got += [
                _shown_actual(a, times, with_reason=True)
                for j, a in enumerate(actual)
                if j not in by_actual
            ]
    diff = difflib.unified_diff(want, got, "expected", f"topic {topic}", lineterm="", n=3)
    head = f"topic {topic!r} (match: {match}): {len(actual)} record(s) written, {len(expected)} expected"
    note = ""
    if match == "subset" and len(actual) > len(pairs):
        note = f"\n  ({len(actual) - len(pairs)} other record(s) in the topic, allowed by match: subset)"
    return head + "\n" + _body(diff) + note


def _key_text(key: Any) -> str:
    return key if isinstance(key, str) else canonical(key)


def compare_table(table: str, match: str, expected: Any, actual: Any) -> str | None:
    """None when the table's contents satisfy ``expected``: a mapping of key -> value
    (``actual`` a mapping; keys compared as text, so ``2024:`` finds the key "2024") or,
    for a windowed table, a list of ``{key, start, end, value}`` rows (``actual`` its
    rows in ``table dump`` order; fields left out are not compared)."""
    if isinstance(expected, list):
        if isinstance(actual, dict):
            return f"table {table!r} is not windowed: expect a mapping of key: value"
        rows = [{k: v for k, v in r.items() if k != "state"} for r in actual]
        wants = [{k: _time_text(v) for k, v in r.items()} for r in expected]
        want = [canonical(w) for w in wants]
        if match == "subset":
            found = [next((w for w in wants if _row_in(w, r)), None) for r in rows]
            got = [canonical(w) for w in found if w is not None]
            ok = all(any(_row_in(w, r) for r in rows) for w in wants)
        else:
            pairs = list(zip(wants + [None] * len(rows), rows))
            got = [canonical(w if w is not None and _row_in(w, r) else r) for w, r in pairs]
            ok = len(wants) == len(rows) and all(map(_row_in, wants, rows))
    else:
        if not isinstance(actual, dict):
            return f"table {table!r} is windowed: expect a list of {{key, start, end, value}} rows"
        want_map = {_key_text(k): canonical(v) for k, v in expected.items()}
        got_map = {_key_text(k): canonical(v) for k, v in actual.items()}
        if match == "subset":
            got_map = {k: v for k, v in got_map.items() if k in want_map}
        ok = want_map == got_map
        want = [f"{k}: {v}" for k, v in sorted(want_map.items())]
        got = [f"{k}: {v}" for k, v in sorted(got_map.items())]
    if ok:
        return None
    diff = difflib.unified_diff(want, got, "expected", f"table {table}", lineterm="", n=3)
    return f"table {table!r} (match: {match}):\n" + _body(diff)


def _body(diff: Any) -> str:
    """A unified diff's lines without its file and hunk headers, indented."""
    lines = list(diff)[2:]
    return "\n".join("  " + d for d in lines if not d.startswith("@@"))


def _row_in(want: dict[str, Any], got: dict[str, Any]) -> bool:
    return all(k in got and canonical(got[k]) == canonical(v) for k, v in want.items())


def _time_text(value: Any) -> Any:
    """A YAML timestamp (``2026-12-01T10:00:00Z`` unquoted) as ``table dump`` writes times."""
    import datetime as dt

    if isinstance(value, dt.datetime):
        from streamctl.pipeline.testspec import seconds
        from streamctl.tables.windows.emit import iso

        return iso(seconds(value))
    return value
