"""Pipeline unit tests as written: ``tests:`` in a pipeline file or its ``*_test.yaml``, checked with positions.

```yaml
tests:
  - name: counts each word                 # required, unique in the file
    given:                                 # optional: table contents before the run
      products: {pen: {price: 2.5}}        # global tables too
    input:                                 # topic -> records, in the order sent
      lines:
        - {value: "the cat", key: k1, timestamp: 2026-12-01T10:00:00Z}
        - value: "the dog"                 # key: none; timestamp: now
      orders: {file: data/orders.jsonl, key_field: customer}   # JSON lines, one value each
    expect:
      topics:                              # topic -> records, or {match, records}
        word-counts:
          - {key: the, value: 2}
        enriched:                          # only the fields given, at every depth
          - {value: {order: {id: 7}}, headers: {source: shop}, match: subset}
        orders-invalid:                    # a dead-letter topic: reason is part of the error
          match: unordered                 # exact (default) | ordered | unordered | subset
          records: [{value: {qty: 0}, reason: "qty"}]
      tables:                              # table -> {key: value}, or {match, rows}
        word_counts: {the: 2, cat: 1}
```

Shapes follow Redpanda Connect's config unit tests (``rpk connect test``): a list of
named tests, inline or in a file beside the config. A record is a mapping with
``value`` (required), ``key``, ``timestamp`` (epoch seconds or ISO 8601; UTC when no
zone is given) and ``headers`` (text to text) on input; expected records take
``value``, ``key``, ``timestamp``, ``headers`` (each one given must be written with
exactly that text; others are allowed, as Redpanda Connect's ``metadata_equals``),
``match`` (``exact`` or ``subset``: how the value is compared, as Redpanda Connect's
``json_equals`` / ``json_contains``) and ``reason`` (text the record's
``streamctl.error`` header must contain). An expected record's key is compared
only when it is given. A windowed table's rows are a list of ``{key, start, end,
value}`` (as ``streamctl table dump`` prints them).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamctl.pipeline.errors import Problem
from streamctl.pipeline.limits import MAX_DEPTH, FileRefused, inside, nesting_depth, read_bounded
from streamctl.pipeline.testschema import (
    EXPECTED_RECORD,
    INPUT_RECORD,
    MATCHES,
    TABLE_MATCHES,
    VALUE_MATCHES,
)
from streamctl.pipeline.yamlpos import Located, Path_

#: a key left out of an expected record: not compared
ANY = type("Any", (), {"__repr__": lambda self: "ANY"})()


@dataclass
class Record:
    """One input or expected record; ``key`` is ANY when an expected record leaves it out."""

    value: Any
    key: Any = None
    timestamp: float | None = None
    headers: dict[str, str] = field(default_factory=dict)
    reason: str | None = None
    #: how an expected record's value is compared (``exact`` or ``subset``); None: as
    #: the topic's ``match:`` says (see :func:`streamctl.pipeline.testdiff.value_match`)
    match: str | None = None
    #: where it was written (its mapping, or the input file's ``file:``), for problems
    path: Path_ = ()
    #: its line in the file (0: not known), for failure messages
    line: int = 0


@dataclass
class TopicExpect:
    topic: str
    match: str
    records: list[Record]
    path: Path_


@dataclass
class TableExpect:
    table: str
    match: str
    #: a mapping key -> value, or (windowed tables) a list of {key, start, end, value}
    rows: Any
    path: Path_


@dataclass
class PipelineTest:
    """One test: what to send, what to write first, what to find after the run."""

    name: str
    file: str
    line: int
    given: dict[str, dict[Any, Any]] = field(default_factory=dict)
    inputs: list[tuple[str, list[Record]]] = field(default_factory=list)
    topics: list[TopicExpect] = field(default_factory=list)
    tables: list[TableExpect] = field(default_factory=list)
    path: Path_ = ()
    #: the document it was read from (for positioned problems)
    doc: Any = None


def seconds(value: Any) -> float:
    """Epoch seconds from a number, a datetime or ISO 8601 text (UTC when no zone);
    ValueError when it is none of them."""
    if isinstance(value, bool):
        raise ValueError(f"a timestamp is epoch seconds or ISO 8601 text, not {value!r}")
    if isinstance(value, (int, float)):
        return _in_range(float(value))
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"not an ISO 8601 time: {value!r}") from None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return _in_range(value.timestamp())
    raise ValueError(f"a timestamp is epoch seconds or ISO 8601 text, not {type(value).__name__}")


#: the latest timestamp a record may carry (Kafka's are milliseconds; a datetime ends at 9999)
LATEST = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc).timestamp()


def _in_range(t: float) -> float:
    """``t`` when it is a time a record can carry (0 through year 9999), else ValueError."""
    if not 0 <= t <= LATEST:  # also NaN
        raise ValueError(f"a timestamp is between 1970 and 9999 (epoch seconds >= 0), not {t!r}")
    return t


class _Reader:
    def __init__(self, doc: Located, base: Path) -> None:
        self.doc, self.base = doc, base
        self.problems: list[Problem] = []

    def error(self, path: Path_, message: str) -> None:
        self.problems.append(self.doc.problem(path, message))

    def bool_key(self, path: Path_) -> None:
        """A problem when the key at ``path`` is ``no``/``on``/``yes``/``off`` unquoted:
        pipeline files are read with YAML 1.1 rules (PyYAML), where it is a boolean and
        would be sent or compared as "false"/"true", while editors (YAML 1.2) show text."""
        text = self.doc.yaml11.get(path)
        if text is not None:
            value = "true" if text.lower() in ("yes", "on") else "false"
            self.error(
                path,
                f"key {text} is the boolean {value} in YAML 1.1 (pipeline files are read "
                f'that way), not the text; quote it ("{text}") or write {value}',
            )

    def mapping(self, value: Any, path: Path_, what: str, known: tuple[str, ...] = ()) -> dict:
        if not isinstance(value, dict):
            self.error(path, f"{what} must be a mapping, not {type(value).__name__}")
            return {}
        for k in value:
            if known and k not in known:
                self.error(
                    path + (k, "<key>"), f"unknown key {k!r} in {what} (known: {', '.join(known)})"
                )
        return value

    def record(self, raw: Any, path: Path_, expected: bool) -> Record | None:
        known = tuple((EXPECTED_RECORD if expected else INPUT_RECORD)["properties"])
        if not isinstance(raw, dict) or "value" not in raw:
            self.error(path, "a record is a mapping with value: (and key:, timestamp:)")
            return None
        before = len(self.problems)
        self.mapping(raw, path, "a record", known)
        self.bool_key(path + ("key",))
        rec = Record(value=raw["value"], key=raw.get("key", ANY if expected else None), path=path)
        rec.line = self.doc.where(path)[0]
        match = raw.get("match")
        if match is not None and match not in VALUE_MATCHES:
            self.error(
                path + ("match",),
                f"a record's match must be one of {', '.join(VALUE_MATCHES)} (how its "
                f"value is compared), not {match!r}",
            )
        rec.match = match
        if "timestamp" in raw:
            try:
                rec.timestamp = seconds(raw["timestamp"])
            except ValueError as exc:
                self.error(path + ("timestamp",), str(exc))
        headers = raw.get("headers", {})
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            self.error(path + ("headers",), "headers must be a mapping of text to text")
        else:
            for k in headers:
                self.bool_key(path + ("headers", k, "<key>"))
            rec.headers = {str(k): v for k, v in headers.items()}
        reason = raw.get("reason")
        if reason is not None and not isinstance(reason, str):
            self.error(path + ("reason",), "reason must be text")
        rec.reason = reason
        return rec if len(self.problems) == before else None

    def records(self, raw: Any, path: Path_, expected: bool) -> list[Record]:
        if not isinstance(raw, list):
            self.error(path, "records must be a list")
            return []
        out = [self.record(r, path + (i,), expected) for i, r in enumerate(raw)]
        return [r for r in out if r is not None]

    def from_file(self, raw: dict[str, Any], path: Path_) -> list[Record]:
        self.mapping(raw, path, "an input file", ("file", "key_field"))
        name, key_field = raw.get("file"), raw.get("key_field")
        if not isinstance(name, str):
            self.error(path, "an input file needs file: a JSON lines file beside the test")
            return []
        try:
            text = read_bounded(inside(self.base, name))
        except FileRefused as exc:
            self.error(path + ("file",), f"input file {name!r}: {exc.message}")
            return []
        out: list[Record] = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError as exc:
                self.error(path + ("file",), f"{name}:{n}: not JSON ({exc})")
                return []
            except RecursionError:
                too_deep = True
            else:
                too_deep = nesting_depth(value) > MAX_DEPTH
            if too_deep:
                # as in a YAML file: a deeper value would overflow the stack when compared
                message = f"{name}:{n}: JSON nested deeper than {MAX_DEPTH} levels"
                self.error(path + ("file",), message)
                return []
            key = value.get(key_field) if isinstance(value, dict) and key_field else None
            out.append(Record(value=value, key=key, path=path + ("file",)))
        return out

    def expect_topics(self, raw: Any, path: Path_) -> list[TopicExpect]:
        out = []
        for topic, body in self.mapping(raw, path, "expect topics").items():
            here = path + (topic,)
            match = "exact"
            if isinstance(body, dict):
                self.mapping(body, here, f"expected topic {topic!r}", ("match", "records"))
                match = body.get("match", "exact")
                if match not in MATCHES:
                    self.error(here + ("match",), f"match must be one of {', '.join(MATCHES)}")
                body, here = body.get("records", []), here + ("records",)
            out.append(
                TopicExpect(str(topic), match, self.records(body, here, True), path + (topic,))
            )
        return out

    def expect_tables(self, raw: Any, path: Path_) -> list[TableExpect]:
        out = []
        for table, body in self.mapping(raw, path, "expect tables").items():
            here, match = path + (table,), "exact"
            rows_at = here
            if isinstance(body, dict) and "rows" in body and set(body) <= {"match", "rows"}:
                rows_at = here + ("rows",)
                match = body.get("match", "exact")
                if match not in TABLE_MATCHES:
                    self.error(
                        here + ("match",), f"match must be one of {', '.join(TABLE_MATCHES)}"
                    )
                body = body["rows"]
            if not isinstance(body, (dict, list)):
                self.error(
                    here, "table rows are a mapping of key: value (a list for windowed tables)"
                )
                continue
            for k in body if isinstance(body, dict) else ():
                self.bool_key(rows_at + (k, "<key>"))
            out.append(TableExpect(str(table), match, body, here))
        return out

    def test(self, raw: Any, path: Path_) -> PipelineTest | None:
        before = len(self.problems)
        body = self.mapping(raw, path, "a test", ("name", "given", "input", "expect"))
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            self.error(path, "a test needs name: (text)")
            return None
        t = PipelineTest(
            name=name, file=self.doc.file, line=self.doc.where(path)[0], path=path, doc=self.doc
        )
        for table, rows in self.mapping(body.get("given", {}), path + ("given",), "given").items():
            t.given[str(table)] = self.mapping(
                rows, path + ("given", table), f"given table {table!r}"
            )
            for k in t.given[str(table)]:
                self.bool_key(path + ("given", table, k, "<key>"))
        for topic, recs in self.mapping(body.get("input", {}), path + ("input",), "input").items():
            here = path + ("input", topic)
            got = (
                self.from_file(recs, here)
                if isinstance(recs, dict)
                else self.records(recs, here, False)
            )
            t.inputs.append((str(topic), got))
        expect = self.mapping(
            body.get("expect", {}), path + ("expect",), "expect", ("topics", "tables")
        )
        t.topics = self.expect_topics(expect.get("topics", {}), path + ("expect", "topics"))
        t.tables = self.expect_tables(expect.get("tables", {}), path + ("expect", "tables"))
        if not t.inputs and not t.given:
            self.error(path, f"test {name!r} sends nothing: give input: topic: [records]")
        if not t.topics and not t.tables:
            self.error(path, f"test {name!r} expects nothing: give expect: topics: or tables:")
        return t if len(self.problems) == before else None


def read_tests(doc: Located, base: Path) -> tuple[list[PipelineTest], list[Problem]]:
    """The tests under ``tests:`` in ``doc`` (a pipeline file or a ``*_test.yaml``) and
    every problem in them, positioned; ``base`` is the folder input files are read from."""
    r = _Reader(doc, base)
    root = doc.data if isinstance(doc.data, dict) else {}
    raw = root.get("tests")
    if raw is None:
        return [], []
    if not isinstance(raw, list):
        return [], [doc.problem(("tests",), "tests must be a list of tests")]
    tests, names = [], set()
    for i, item in enumerate(raw):
        t = r.test(item, ("tests", i))
        if t is None:
            continue
        if t.name in names:
            r.error(("tests", i, "name"), f"two tests are named {t.name!r}")
        names.add(t.name)
        tests.append(t)
    return tests, r.problems
