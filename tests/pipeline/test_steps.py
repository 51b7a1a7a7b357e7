"""Steps end to end: streamctl run --until-idle on the embedded broker, tables read with table dump."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from support import ROOT, cli, read_topic

from streamctl.cli.validate import PROBLEMS_FOUND

REVENUE = ROOT / "pipelines" / "revenue.yaml"
SALES = ROOT / "pipelines" / "data" / "sales.jsonl"
TABLES = ["orders_per_customer", "revenue_per_customer", "products_per_customer"]


def dump(pipeline: Path, table: str, datadir: Path) -> dict:
    result = cli("table", "dump", pipeline, table, "-d", datadir)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def expected_revenue() -> dict[str, dict]:
    rows = [json.loads(line) for line in SALES.read_text().splitlines()]
    count: dict = {}
    revenue: dict = {}
    products: dict = {}
    for r in rows:
        if r["quantity"] > 0:
            c = r["customer"]
            count[c] = count.get(c, 0) + 1
            revenue[c] = revenue.get(c, 0) + r["price"] * r["quantity"]
            products.setdefault(c, set()).add(r["product"])
    return {
        "orders_per_customer": count,
        "revenue_per_customer": revenue,
        "products_per_customer": {c: sorted(p) for c, p in products.items()},
    }


def run_revenue(datadir: Path) -> None:
    sent = cli("send", "sales", "-p", REVENUE, "-d", datadir, "--file", SALES)
    assert sent.exit_code == 0, sent.output
    result = cli("run", REVENUE, "-d", datadir, "--until-idle")
    assert result.exit_code == 0, result.output


def test_revenue_example_tables_and_output_are_exact(tmp_path: Path) -> None:
    run_revenue(tmp_path)
    expected = expected_revenue()
    assert expected["orders_per_customer"] == {
        "ada": 5,
        "barbara": 4,
        "grace": 2,
        "ken": 6,
        "linus": 2,
        "margaret": 1,
    }
    for table in TABLES:
        assert dump(REVENUE, table, tmp_path) == expected[table]
    big = [json.loads(m.value) for m in read_topic(tmp_path, "big-sales")]
    assert sorted(b["id"] for b in big) == sorted(
        json.loads(x)["id"]
        for x in SALES.read_text().splitlines()
        if json.loads(x)["quantity"] * json.loads(x)["price"] >= 100
    )
    # to: keeps the event's key, which group_by made the customer
    assert all(
        m.key.decode() == json.loads(m.value)["customer"] for m in read_topic(tmp_path, "big-sales")
    )


def test_deleted_stores_are_rebuilt_identically_from_changelogs(tmp_path: Path) -> None:
    run_revenue(tmp_path)
    before = {t: dump(REVENUE, t, tmp_path) for t in TABLES}
    shutil.rmtree(tmp_path / "stores")
    assert {t: dump(REVENUE, t, tmp_path) for t in TABLES} == before
    # a data dir holding nothing but the broker log (no stores at all) answers the same
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    shutil.copy(tmp_path / "broker.db", fresh / "broker.db")
    assert {t: dump(REVENUE, t, fresh) for t in TABLES} == before
    # and a worker on it continues from the rebuilt state (nothing left to process)
    assert cli("run", REVENUE, "-d", fresh, "--until-idle").exit_code == 0
    assert {t: dump(REVENUE, t, fresh) for t in TABLES} == before


def test_corrupt_store_file_is_read_from_the_changelog_and_rebuilt_by_the_worker(
    tmp_path: Path,
) -> None:
    run_revenue(tmp_path)
    before = dump(REVENUE, "revenue_per_customer", tmp_path)
    files = sorted((tmp_path / "stores" / "revenue" / "revenue_per_customer").glob("*.sqlite3"))
    assert files
    for f in files:
        f.write_bytes(b"\x00garbage\xff" * 500)
    result = cli("table", "dump", REVENUE, "revenue_per_customer", "-d", tmp_path)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == before
    assert result.stderr.count("is not a SQLite database") == len(files)
    assert "reading its state from the changelog" in result.stderr
    assert all(f.read_bytes() == b"\x00garbage\xff" * 500 for f in files)  # a read wrote nothing
    result = cli("run", REVENUE, "-d", tmp_path, "--until-idle")
    assert result.exit_code == 0, result.output
    assert "rebuilding from the changelog" in result.stderr
    assert all(f.read_bytes()[:16] == b"SQLite format 3\x00" for f in files)
    assert dump(REVENUE, "revenue_per_customer", tmp_path) == before


PIPE = """\
app: steps
topics:
  in: {partitions: 2}
  out: {partitions: 2}
tables:
  last: {default: 0}
  total: {default: int}
  n: {default: int}
  tags: {kind: set}
agents:
  a:
    from: in
    steps:
%s
"""


def run_steps(tmp_path: Path, steps: str, events: list[dict], key_field: str = "k") -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(PIPE % steps)
    data = tmp_path / "in.jsonl"
    data.write_text("".join(json.dumps(e) + "\n" for e in events))
    sent = cli("send", "in", "-p", path, "-d", tmp_path, "--file", data, "--key-field", key_field)
    assert sent.exit_code == 0, sent.output
    result = cli("run", path, "-d", tmp_path, "--until-idle")
    assert result.exit_code == 0, result.output
    return path


EVENTS = [
    {"k": "a", "x": 1, "tag": "red"},
    {"k": "b", "x": 5, "tag": "blue"},
    {"k": "a", "x": 3, "tag": "blue"},
    {"k": "a", "x": -2, "tag": "red"},
    {"k": "b", "x": 0, "tag": "blue"},
]


def test_filter_count_add_set(tmp_path: Path) -> None:
    path = run_steps(
        tmp_path,
        "      - filter: 'x >= 0'\n"
        "      - count: {table: n}\n"
        "      - add: {table: total, value: 'x * 10'}\n"
        "      - set: {table: last, value: x}\n",
        EVENTS,
    )
    assert dump(path, "n", tmp_path) == {"a": 2, "b": 2}
    assert dump(path, "total", tmp_path) == {"a": 40, "b": 50}
    assert dump(path, "last", tmp_path) == {"a": 3, "b": 0}


def test_set_add_and_set_discard_with_key_expressions(tmp_path: Path) -> None:
    path = run_steps(
        tmp_path,
        "      - set_add: {table: tags, value: tag}\n"
        "      - filter: 'x < 0'\n"
        "      - set_discard: {table: tags, value: tag}\n"
        "      - count: {table: n, key: upper(tag)}\n",
        EVENTS,
    )
    assert dump(path, "tags", tmp_path) == {"a": ["blue"], "b": ["blue"]}
    assert dump(path, "n", tmp_path) == {"RED": 1}


def test_map_group_by_and_to_keep_keys(tmp_path: Path) -> None:
    path = run_steps(
        tmp_path,
        "      - map: {double: 'x * 2'}\n"
        "      - filter: 'double > 0'\n"
        "      - group_by: tag\n"
        "      - add: {table: total, value: double}\n"
        "      - map: 'tag + \":\" + str(double)'\n"
        "      - to: out\n",
        EVENTS,
    )
    assert dump(path, "total", tmp_path) == {"red": 2, "blue": 16}
    out = read_topic(tmp_path, "out")
    assert sorted((m.key.decode(), json.loads(m.value)) for m in out) == [
        ("blue", "blue:10"),
        ("blue", "blue:6"),
        ("red", "red:2"),
    ]


def test_agent_level_sinks_get_the_final_value(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    text = PIPE % "      - filter: 'x > 2'\n      - map: 'x'\n"
    path.write_text(text + "    to: out\n")
    data = tmp_path / "in.jsonl"
    data.write_text("".join(json.dumps(e) + "\n" for e in EVENTS))
    cli("send", "in", "-p", path, "-d", tmp_path, "--file", data, "--key-field", "k")
    assert cli("run", path, "-d", tmp_path, "--until-idle").exit_code == 0
    assert sorted(json.loads(m.value) for m in read_topic(tmp_path, "out")) == [3, 5]


BAD_STEPS = [
    ("      - filter: 'x >'\n", "14:18: invalid expression: invalid syntax in expression 'x >'"),
    ("      - filter: \"__import__('os')\"\n", "14:18: unknown function '__import__'"),
    ("      - map: {y: '().__class__'}\n", "14:22: attribute '__class__' is not allowed (private)"),
    ("      - count: {table: nope}\n", "14:24: count: unknown table 'nope'"),
    (
        "      - count: {table: tags}\n",
        "14:24: count needs a table (kind: table); 'tags' is a set table",
    ),
    (
        "      - set_add: {table: n, value: x}\n",
        "14:26: set_add needs a set table (kind: set); 'n' is kind table",
    ),
    ("      - add: {table: n}\n", "14:14: add needs value: an expression"),
    ("      - to: nowhere\n", "14:13: to: undeclared topic 'nowhere'"),
    ("      - fitler: 'x'\n", "14:9: unknown step 'fitler'"),
    (
        "      - count: n\n      - group_by: tag\n",
        "15:19: group_by must come before every table or topic step",
    ),
    ("      - group_by: tag\n      - group_by: x\n", "15:19: only one group_by per agent"),
    ("      - group_by: {key: 'lower(tag)'}\n", "14:19: group_by needs name:"),
    ("      - group_by: {key: 'key', name: k}\n", "14:26: 'key' cannot be used here"),
    ("      - filter: 1\n        map: 2\n", "14:9: a step is a mapping with one key"),
]


@pytest.mark.parametrize("steps,problem", BAD_STEPS)
def test_validate_reports_bad_steps_with_positions(
    tmp_path: Path, steps: str, problem: str
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(PIPE % steps)
    result = cli("validate", path)
    assert result.exit_code == PROBLEMS_FOUND, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{path}:{problem}"), lines


def test_global_tables_are_read_only_and_partitions_must_match(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "app: g\ntopics:\n  in: {partitions: 2}\ntables:\n  g: {kind: global}\n"
        "  t: {partitions: 3, default: int}\nagents:\n  a:\n    from: in\n    steps:\n"
        "      - count: g\n      - count: {table: t}\n"
    )
    result = cli("validate", path)
    assert result.stderr.strip().splitlines() == [
        f"{path}:11:16: count: table 'g' is a global table, which is read-only",
        f"{path}:12:24: table 't' has 3 partition(s) but agent 'a' writes it from topic 'in' "
        "with 2: declare it with partitions: 2 (or leave partitions out)",
    ]


GROUP_BY_PIPELINE = """
app: gb
topics:
  events: {partitions: 2}
tables:
  per_user: {default: int}
agents:
  count:
    from: events
    %(dead_letter)s
    steps:
      - filter: "kind != 'noise'"
      - group_by: user
      - count: per_user
"""


@pytest.mark.parametrize("with_dead_letter", [True, False])
def test_group_by_on_a_missing_field_parks_the_record_or_stops_naming_it(
    tmp_path: Path, with_dead_letter: bool
) -> None:
    pipeline = tmp_path / "gb.yaml"
    pipeline.write_text(
        GROUP_BY_PIPELINE
        % {"dead_letter": "dead_letter: events-invalid" if with_dead_letter else ""}
    )
    lines = [
        {"user": "ada", "kind": "a"},
        {"kind": "a"},
        {"user": "ada", "kind": "noise"},
        {"user": "bob", "kind": "b"},
    ]
    data = tmp_path / "data"
    send = cli(
        "send",
        "events",
        "-p",
        pipeline,
        "-d",
        data,
        "-k",
        "k",
        "--file",
        "-",
        input="".join(json.dumps(x) + "\n" for x in lines),
    )
    assert send.exit_code == 0, send.output
    result = cli("run", pipeline, "-d", data, "--until-idle")
    if with_dead_letter:
        assert result.exit_code == 0, result.output
        assert dump(pipeline, "per_user", data) == {"ada": 1, "bob": 1}
        dead = read_topic(data, "events-invalid")
        assert [json.loads(m.value) for m in dead] == [{"kind": "a"}]
        assert b"the new key is None" in dict(dead[0].headers)["streamctl.error"]
    else:
        assert result.exit_code == 1
        last = result.stderr.strip().splitlines()[-1]
        line = pipeline.read_text().splitlines().index("      - group_by: user") + 1
        assert re.fullmatch(
            rf"error: events\[\d\]@1: agent 'count' failed in step group_by \({pipeline}:{line}\): "
            r"ValueError: the new key is None \(a missing field\?\) \(on_error: stop; .*\)",
            last,
        ), last
