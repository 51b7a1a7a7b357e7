"""Compare a pipeline test's expected records and table rows with what the run wrote; readable diffs.

Modes for a topic (``match:``): ``exact`` (the default) wants the same records, and the
records of each key in the same order: Kafka keeps order per partition and a key always
lands in one partition, so that is the order a consumer can rely on whatever the
partition count. ``ordered`` wants the same records in the order read (partition by
partition, offsets ascending: for a one-partition topic, the order written);
``unordered`` the same records in any order; ``subset`` each expected record somewhere
(others allowed), its value compared as a subset (:mod:`streamctl.pipeline.testmatch`:
only the fields given, at every depth). An expected record's own ``match: exact |
subset`` says how its value is compared, whatever the topic's mode. It compares its
value, and its key, timestamp, headers (each one given, exactly; others allowed, as
Redpanda Connect's ``metadata_equals``) and reason only when given (reason: the
``streamctl.error`` header contains it). When an expected record is not found, the
message names where it first differs from the closest written record.
"""

from __future__ import annotations

import difflib
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from streamctl.pipeline.builtins import plain
from streamctl.pipeline.testmatch import canonical, contains, difference, matches, step
from streamctl.pipeline.testspec import ANY, Record


@dataclass
class Actual:
    """A record the run wrote, decoded."""

    key: Any
    value: Any
    timestamp: float
    reason: str | None = None
    #: its headers as text (the last value of a name written twice)
    headers: dict[str, str] = field(default_factory=dict)


def value_match(expected: Record, topic_match: str) -> str:
    """How ``expected``'s value is compared: its own ``match:``, else ``subset`` under a
    topic's ``match: subset``, else ``exact``."""
    if expected.match is not None:
        return expected.match
    return "subset" if topic_match == "subset" else "exact"


def first_difference(expected: Record, actual: Actual, topic_match: str) -> str | None:
    """None when ``actual`` is ``expected``; else where they first differ: the key, the
    value (the path of its first differing field), the timestamp, a header, the reason."""
    if expected.key is not ANY and canonical(expected.key) != canonical(actual.key):
        return f"key: expected {canonical(expected.key)}, written {canonical(actual.key)}"
    found = difference(expected.value, actual.value, value_match(expected, topic_match))
    if found:
        return found
    if expected.timestamp is not None and abs(expected.timestamp - actual.timestamp) > 0.0005:
        return f"timestamp: expected {_when(expected.timestamp)}, written {_when(actual.timestamp)}"
    for name, text in expected.headers.items():
        got = actual.headers.get(name)
        if got != text:
            shown = "not written" if got is None else f"written {canonical(got)}"
            return f"{step('headers', name)}: expected {canonical(text)}, {shown}"
    if expected.reason is not None and expected.reason not in (actual.reason or ""):
        shown = "no reason" if actual.reason is None else canonical(actual.reason)
        return f"reason: expected one containing {canonical(expected.reason)}, written {shown}"
    return None


def _same(expected: Record, actual: Actual, topic_match: str) -> bool:
    if expected.key is not ANY and canonical(expected.key) != canonical(actual.key):
        return False  # the cheap checks first: most records differ by key
    if not matches(expected.value, actual.value, value_match(expected, topic_match)):
        return False
    return first_difference(expected, actual, topic_match) is None


def _line(fields: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {canonical(v)}" for k, v in fields.items()) + "}"


def _shown(expected: Record) -> str:
    fields: dict[str, Any] = {}
    if expected.key is not ANY:
        fields["key"] = expected.key
    fields["value"] = expected.value
    if expected.timestamp is not None:
        fields["timestamp"] = _when(expected.timestamp)
    if expected.headers:
        fields["headers"] = expected.headers
    if expected.reason is not None:
        fields["reason"] = expected.reason
    return _line(fields)


def _when(seconds: float) -> str:
    """Epoch seconds as ISO 8601 UTC text (milliseconds when there are any)."""
    import datetime as dt

    t = dt.datetime.fromtimestamp(seconds, dt.timezone.utc)
    text = t.isoformat(timespec="milliseconds" if t.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def _shown_actual(actual: Actual, with_time: bool, headers: set[str]) -> str:
    """A written record as a diff line: its timestamp when expected ones give one, the
    headers ``headers`` names (those the expected records give), its reason."""
    fields: dict[str, Any] = {"key": actual.key, "value": actual.value}
    if with_time:
        fields["timestamp"] = _when(actual.timestamp)
    shown = {k: v for k, v in actual.headers.items() if k in headers}
    if shown:
        fields["headers"] = shown
    if actual.reason is not None:
        fields["reason"] = actual.reason
    return _line(fields)


def _pair(
    expected: list[Record], actual: list[Actual], per_key: bool, match: str
) -> dict[int, int]:
    """expected index -> actual index, greedily, each actual used once; with ``per_key``
    an actual record is taken only when no earlier record of its key is still free.

    Each written record's key and value are made text once, and a value compared
    exactly is looked up by its text rather than compared with every written record:
    thousands of records pair in well under a second (comparing each pair was
    quadratic, 8,000 records took minutes)."""
    keys = [canonical(a.key) for a in actual]
    values = [canonical(a.value) for a in actual]
    used = [False] * len(actual)
    free_of_key: dict[str, deque[int]] = {}  # the free records of each key, in order
    of_value: dict[str, list[int]] = {}
    for j, (k, v) in enumerate(zip(keys, values)):
        free_of_key.setdefault(k, deque()).append(j)
        of_value.setdefault(v, []).append(j)
    everything = range(len(actual))
    plain_values: dict[int, Any] = {}
    # field name -> the text of its value (a scalar) -> the written records that have it
    by_field: dict[str, dict[str, list[int]]] = {}

    def plain_value(j: int) -> Any:
        if j not in plain_values:
            plain_values[j] = plain(actual[j].value)
        return plain_values[j]

    def subset_candidates(want: Any) -> Any:
        """The written records a subset ``want`` can match: those holding one of its
        scalar fields with the same value (``contains`` compares a scalar as text),
        else every one (a scalar ``want`` must equal the value)."""
        if not isinstance(want, dict):
            return everything if isinstance(want, list) else of_value.get(canonical(want), [])
        for name, v in want.items():
            if isinstance(v, (dict, list)):
                continue
            index = by_field.get(str(name))
            if index is None:
                index = by_field[str(name)] = {}
                for j in everything:
                    got = plain_value(j)
                    if isinstance(got, dict) and str(name) in got:
                        index.setdefault(canonical(got[str(name)]), []).append(j)
            return index.get(canonical(v), [])
        return everything

    def eligible(j: int) -> bool:
        if used[j]:
            return False
        if not per_key:
            return True
        queue = free_of_key[keys[j]]
        while used[queue[0]]:
            queue.popleft()
        return queue[0] == j

    pairs: dict[int, int] = {}
    for i, exp in enumerate(expected):
        key = None if exp.key is ANY else canonical(exp.key)
        subset = value_match(exp, match) == "subset"
        if subset:  # the records holding one of its fields, then compared
            want = plain(exp.value)
            candidates: Any = subset_candidates(want)
        else:  # the records of exactly this value
            want, candidates = None, of_value.get(canonical(exp.value), [])
        for j in candidates:
            if (key is not None and keys[j] != key) or not eligible(j):
                continue
            if subset and not contains(want, plain_value(j)):
                continue
            if first_difference(exp, actual[j], match) is None:
                pairs[i] = j
                used[j] = True
                break
    return pairs


def compare_records(
    topic: str, match: str, expected: list[Record], actual: list[Actual]
) -> str | None:
    """None when ``actual`` satisfies ``expected`` under ``match``; else a message with a
    unified diff (``-`` expected, ``+`` written) and, for each expected record not found,
    where it first differs from the closest written one."""
    if match == "ordered":
        pairs = {
            i: i
            for i in range(min(len(expected), len(actual)))
            if _same(expected[i], actual[i], match)
        }
        ok = len(expected) == len(actual) and len(pairs) == len(expected)
    else:
        pairs = _pair(expected, actual, per_key=match == "exact", match=match)
        extra = len(actual) - len(pairs)
        ok = len(pairs) == len(expected) and (match == "subset" or extra == 0)
    if ok:
        return None
    times = any(e.timestamp is not None for e in expected)
    headers = {name for e in expected for name in e.headers}
    want = [_shown(e) for e in expected]
    by_actual = {j: want[i] for i, j in pairs.items()}
    if match == "ordered":
        got = [by_actual.get(j) or _shown_actual(a, times, headers) for j, a in enumerate(actual)]
    else:
        got = [by_actual[j] for _, j in sorted(pairs.items())]
        if match != "subset":
            got += [
                _shown_actual(a, times, headers) for j, a in enumerate(actual) if j not in by_actual
            ]
    diff = difflib.unified_diff(want, got, "expected", f"topic {topic}", lineterm="", n=3)
    head = f"topic {topic!r} (match: {match}): {len(actual)} record(s) written, {len(expected)} expected"
    note = ""
    if match == "subset" and len(actual) > len(pairs):
        note = f"\n  ({len(actual) - len(pairs)} other record(s) in the topic, allowed by match: subset)"
    return head + "\n" + _body(diff) + note + _differences(match, expected, actual, pairs)


def _differences(
    match: str, expected: list[Record], actual: list[Actual], pairs: dict[int, int]
) -> str:
    """A line per expected record not found: where it first differs from the written
    record most likely meant (the one at its place for ``ordered``; else the first
    one not matched, of its key when it gives one). Records are numbered from 1 in
    the order expected and written."""
    taken = set(pairs.values())
    free = [j for j in range(len(actual)) if j not in taken]
    free_of_key: dict[str, list[int]] = {}
    for f in free:
        free_of_key.setdefault(canonical(actual[f].key), []).append(f)
    lines = []
    for i, exp in enumerate(expected):
        if i in pairs:
            continue
        if match == "ordered":
            j = i if i < len(actual) else None
        else:
            same_key = free if exp.key is ANY else free_of_key.get(canonical(exp.key), [])
            j = (same_key or free)[0] if free else None
        found = None if j is None else first_difference(exp, actual[j], match)
        if j is None or found is None:
            continue
        where = f" (line {exp.line})" if exp.line else ""
        lines.append(
            f"\n  expected record {i + 1}{where} not found: written record {j + 1} "
            f"differs at {found}"
        )
    return "".join(lines)


def _key_text(key: Any) -> str:
    return key if isinstance(key, str) else canonical(key)


def compare_table(table: str, match: str, expected: Any, actual: Any) -> str | None:
    """None when the table's contents satisfy ``expected``: a mapping of key -> value
    (``actual`` a mapping; keys compared as text, so ``2024:`` finds the key "2024") or,
    for a windowed table, a list of ``{key, start, end, value}`` rows (``actual`` its
    rows in ``table dump`` order; fields left out are not compared). ``match: subset``
    compares only the keys (or rows) given, each value as a subset
    (:mod:`streamctl.pipeline.testmatch`)."""
    notes: list[str] = []
    if isinstance(expected, list):
        if isinstance(actual, dict):
            return f"table {table!r} is not windowed: expect a mapping of key: value"
        rows = [{k: v for k, v in r.items() if k != "state"} for r in actual]
        wants = [{k: _time_text(v, k) for k, v in r.items()} for r in expected]
        want = [canonical(w) for w in wants]
        if match == "subset":
            found = [next((w for w in wants if _row_in(w, r, match)), None) for r in rows]
            got = [canonical(w) for w in found if w is not None]
            ok = all(any(_row_in(w, r, match) for r in rows) for w in wants)
            notes = _row_differences(wants, rows, match)
        else:
            pairs = list(zip(wants + [None] * len(rows), rows))
            got = [canonical(w if w is not None and _row_in(w, r, match) else r) for w, r in pairs]
            ok = len(wants) == len(rows) and all(_row_in(w, r, match) for w, r in zip(wants, rows))
    else:
        if not isinstance(actual, dict):
            return f"table {table!r} is windowed: expect a list of {{key, start, end, value}} rows"
        wanted = {_key_text(k): v for k, v in expected.items()}
        actual_by_text = {_key_text(k): v for k, v in actual.items()}
        want_map = {k: canonical(v) for k, v in wanted.items()}
        got_map = {_key_text(k): canonical(v) for k, v in actual.items()}
        if match == "subset":  # only the keys given, each value as a subset
            got_map = {
                k: want_map[k] if matches(wanted[k], actual_by_text[k], match) else v
                for k, v in got_map.items()
                if k in want_map
            }
        ok = want_map == got_map
        notes = [
            f"\n  key {k}: {difference(wanted[k], actual_by_text[k], match)}"
            for k in sorted(wanted)
            if k in actual_by_text and not matches(wanted[k], actual_by_text[k], match)
        ]
        want = [f"{k}: {v}" for k, v in sorted(want_map.items())]
        got = [f"{k}: {v}" for k, v in sorted(got_map.items())]
    if ok:
        return None
    diff = difflib.unified_diff(want, got, "expected", f"table {table}", lineterm="", n=3)
    return f"table {table!r} (match: {match}):\n" + _body(diff) + "".join(notes)


def _body(diff: Any) -> str:
    """A unified diff's lines without its file and hunk headers, indented."""
    lines = list(diff)[2:]
    return "\n".join("  " + d for d in lines if not d.startswith("@@"))


def _row_in(want: dict[str, Any], got: dict[str, Any], match: str) -> bool:
    """True when the windowed row ``got`` has each field ``want`` gives; its ``value`` as
    a subset under ``match: subset``."""
    return all(
        k in got and matches(v, got[k], match if k == "value" else "exact") for k, v in want.items()
    )


def _row_differences(
    wants: list[dict[str, Any]], rows: list[dict[str, Any]], match: str
) -> list[str]:
    """A line per expected windowed row no written row has: where it first differs from
    the first written row of its key (or the first row when it gives no key)."""
    out = []
    for i, w in enumerate(wants):
        if any(_row_in(w, r, match) for r in rows):
            continue
        same = [r for r in rows if "key" not in w or canonical(r.get("key")) == canonical(w["key"])]
        if not same:
            out.append(
                f"\n  expected row {i + 1}: no window of key {canonical(w.get('key'))} written"
            )
            continue
        for name, v in w.items():
            if name not in same[0]:
                found: str | None = f"{name}: expected {canonical(v)}, not written"
            elif name == "value":
                found = difference(v, same[0][name], match)
            elif canonical(v) != canonical(same[0][name]):
                found = f"{name}: expected {canonical(v)}, written {canonical(same[0][name])}"
            else:
                found = None
            if found:
                n = rows.index(same[0]) + 1
                out.append(
                    f"\n  expected row {i + 1} not found: written row {n} differs at {found}"
                )
                break
    return out


def _time_text(value: Any, field: str = "") -> Any:
    """A YAML timestamp (``2026-12-01T10:00:00Z`` unquoted), or a window's ``start`` /
    ``end`` in epoch seconds, as ``table dump`` writes times."""
    import datetime as dt

    if (
        field in ("start", "end")
        and isinstance(value, (int, float))
        and not isinstance(value, bool)
    ):
        from streamctl.tables.windows.emit import iso

        try:
            return iso(float(value))
        except (OverflowError, ValueError, OSError):
            return value  # no time: compared as written (and reported as differing)
    if isinstance(value, dt.datetime):
        from streamctl.pipeline.testspec import seconds
        from streamctl.tables.windows.emit import iso

        return iso(seconds(value))
    return value
