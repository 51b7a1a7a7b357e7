"""The tables: section of pipeline files: the App it builds, and every mistake with file:line:col."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import cli

from streamctl.cli.validate import PROBLEMS_FOUND
from streamctl.pipeline import load_pipeline
from streamctl.tables import GlobalTable, SetGlobalTable, SetTable, Table

GOOD = """\
app: shop
topics:
  orders: {partitions: 2}
  countries-log: {partitions: 3, compacting: true}
tables:
  counts: {default: int, help: orders per customer}
  amounts: {kind: table, default: float, key_type: str, value_type: float}
  last: {default: {total: 0, items: []}}
  zero: {default: 0.5}
  products: {kind: set, value_type: str}
  countries: {kind: global, changelog_topic: countries-log}
  regions: {kind: set_global, partitions: 2}
agents:
  f:
    from: orders
    steps:
      - count: counts
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    return path


def test_tables_section_builds_every_kind_with_defaults(tmp_path: Path) -> None:
    app = load_pipeline(write(tmp_path, GOOD), datadir=tmp_path / "d").app
    t = app.tables
    assert [type(t[n]) for n in ("counts", "products", "countries", "regions")] == [
        Table,
        SetTable,
        GlobalTable,
        SetGlobalTable,
    ]
    assert t["counts"].default is int and t["counts"].help == "orders per customer"
    assert t["counts"].partitions == 2  # inferred from the topic its steps read
    assert t["amounts"].key_type is str and t["amounts"].value_type is float
    first, second = t["last"].default(), t["last"].default()
    assert first == {"total": 0, "items": []} and first is not second
    first["items"].append(1)
    assert second["items"] == [] and t["last"].default()["items"] == []
    assert t["zero"].default() == 0.5
    assert t["countries"].changelog_topic.name == "countries-log"
    assert t["countries"].partitions == 3 and t["regions"].partitions == 2
    app.close()


BAD = [
    (
        "  t: {kind: tabel}\n",
        "p.yaml:4:13: unknown table kind 'tabel' (known: table, global, set, set_global) (did you mean 'table'?)",
    ),
    (
        "  t: {default: }\n",
        "p.yaml:4:15: default must be a factory (int, float, str, list, dict, set) or a literal value, not empty",
    ),
    (
        "  t: {default: 2021-01-01}\n",
        "p.yaml:4:16: default must be a factory name or a literal, not date",
    ),
    (
        "  t: {kind: set, default: int}\n",
        "p.yaml:4:27: table 't': set tables always default to the empty set",
    ),
    (
        "  t: {defualt: int}\n",
        "p.yaml:4:7: unknown key 'defualt' in table 't' (did you mean 'default'?)",
    ),
    ("  t: {partitions: 0}\n", "p.yaml:4:19: partitions must be at least 1, not 0"),
    (
        "  t: {key_type: Nope}\n",
        "p.yaml:4:17: unknown type 'Nope' (known: str, bytes, json, int, float, bool)",
    ),
    ("  t: [1]\n", "p.yaml:4:6: table 't' must be a mapping, not a list"),
    ("  bad/name: {}\n", "p.yaml:4:3: invalid table name 'bad/name' (letters, digits, . _ - only)"),
]


@pytest.mark.parametrize("table,problem", BAD)
def test_validate_reports_table_mistakes_with_positions(
    tmp_path: Path, table: str, problem: str
) -> None:
    path = write(tmp_path, "app: x\ntopics: {a: {}}\ntables:\n" + table)
    result = cli("validate", path)
    assert result.exit_code == PROBLEMS_FOUND
    assert result.stderr.strip().splitlines() == [f"{tmp_path}/{problem}"]
