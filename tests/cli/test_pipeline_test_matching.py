"""``streamctl test``: expected headers, ``match: subset`` values at every depth, and
``--name`` (#13), through the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import cli

PIPELINE = """\
app: tm-{name}
topics:
  orders: {{}}
  out: {{}}
  bad: {{}}
agents:
  shape:
    from: orders
    dead_letter: bad
    steps:
      - filter: "qty > 0 or qty / 0"
      - map:
          total: "qty * 2"
          order: "{{'id': id, 'lines': [{{'sku': sku, 'n': qty}}]}}"
      - to: out
tests:
"""
#: one good order, one that divides by zero (dead-lettered with the input's headers)
INPUT = """\
    input:
      orders:
        - {key: k1, value: {id: 7, sku: pen, qty: 2}, headers: {source: shop}}
        - {key: k2, value: {id: 8, sku: ink, qty: 0}, headers: {source: web, trace: t-2}}
"""


def run(tmp_path: Path, *tests: str, args: tuple[str, ...] = ()) -> tuple[Path, object]:
    path = tmp_path / "p.yaml"
    body = "".join(f"  - name: {name}\n{INPUT}    expect:\n{expect}" for name, expect in tests)
    path.write_text(PIPELINE.format(name=tmp_path.name[-20:]) + body)
    return path, cli("test", path, *args)


PASSING = (
    "subset and headers",
    """\
      topics:
        out:
          - {key: k1, value: {order: {id: 7, lines: [{sku: pen}]}}, match: subset}
        bad:
          - key: k2
            value: {id: 8, sku: ink, qty: 0}
            headers: {source: web, streamctl.agent: shape, streamctl.source.topic: orders}
            reason: division by zero
""",
)


def test_headers_and_subset_values_pass(tmp_path: Path) -> None:
    _, result = run(tmp_path, PASSING)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("PASS ")


def test_a_topic_in_match_subset_compares_values_as_subsets(tmp_path: Path) -> None:
    # the records of a topic in subset mode: others allowed, and fields too
    expect = "      topics:\n        out: {match: subset, records: [{value: {total: 4}}]}\n"
    _, result = run(tmp_path, ("topic subset", expect))
    assert result.exit_code == 0, result.output
    # a record's own match: exact overrides it
    exact = "      topics:\n        out:\n          match: subset\n"
    exact += "          records: [{value: {total: 4}, match: exact}]\n"
    _, result = run(tmp_path, ("record exact", exact))
    assert result.exit_code == 1
    assert "differs at value.id: written 7, not expected" in result.stdout


def test_a_wrong_nested_field_is_named_by_its_path(tmp_path: Path) -> None:
    expect = (
        "      topics:\n        out:\n"
        "          - {key: k1, value: {order: {lines: [{sku: pencil}]}}, match: subset}\n"
    )
    path, result = run(tmp_path, ("nested", expect))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[1:5] == [
        "  topic 'out' (match: exact): 1 record(s) written, 1 expected",
        '    -{key: "k1", value: {"order": {"lines": [{"sku": "pencil"}]}}}',
        '    +{key: "k1", value: {"id": 7, "order": {"id": 7, "lines": [{"n": 2, "sku": "pen"}]},'
        ' "qty": 2, "sku": "pen", "total": 4}}',
        f"    expected record 1 (line {_line_of(path, 'pencil')}) not found: written record 1 "
        'differs at value.order.lines[0].sku: expected "pencil", written "pen"',
    ]


@pytest.mark.parametrize(
    "headers, difference",
    [
        ("{source: shop}", 'headers.source: expected "shop", written "web"'),
        ("{trace: t-1}", 'headers.trace: expected "t-1", written "t-2"'),
        ("{region: eu}", 'headers.region: expected "eu", not written'),
        (
            '{"streamctl.agent": other}',
            'headers["streamctl.agent"]: expected "other", written "shape"',
        ),
    ],
)
def test_a_wrong_header_fails_with_its_name(tmp_path: Path, headers: str, difference: str) -> None:
    expect = (
        "      topics:\n        bad:\n"
        f"          - {{key: k2, value: {{id: 8, sku: ink, qty: 0}}, headers: {headers}}}\n"
    )
    _, result = run(tmp_path, ("header", expect))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    # the diff shows the written record's headers of the names expected
    name = headers.strip("{}").split(":")[0].strip('"')
    written = [line for line in lines if line.startswith("    +")]
    assert len(written) == 1
    assert (f'"{name}":' in written[0]) is (name != "region")
    assert lines[4].endswith(f"differs at {difference}"), lines


@pytest.mark.parametrize(
    "record, message",
    [
        ("{value: 1, match: partial}", "a record's match must be one of exact, subset"),
        ("{value: 1, headers: {a: 1}}", "headers must be a mapping of text to text"),
        ("{value: 1, headers: [a]}", "headers must be a mapping of text to text"),
        ("{value: 1, headers: {no: x}}", "key no is the boolean false in YAML 1.1"),
    ],
)
def test_a_bad_match_or_header_is_bad_input(tmp_path: Path, record: str, message: str) -> None:
    expect = f"      topics:\n        out:\n          - {record}\n"
    path, result = run(tmp_path, ("bad", expect))
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    [line] = result.stderr.splitlines()
    assert line.startswith(f"{path}:{_line_of(path, record)}:")
    assert message in line
    # validate reports it too, at the same place
    assert cli("validate", path).stderr == line + "\n"


def test_input_records_take_no_match(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    text = PIPELINE.format(name="in") + (
        "  - name: input\n    input:\n      orders: [{value: 1, match: subset}]\n"
        "    expect: {topics: {out: []}}\n"
    )
    path.write_text(text)
    result = cli("test", path)
    assert result.exit_code == 2
    assert (
        "unknown key 'match' in a record (known: value, key, timestamp, headers)" in result.stderr
    )


def test_name_runs_the_tests_whose_name_contains_it(tmp_path: Path) -> None:
    failing = ("a failing one", "      topics:\n        out: [{value: 0}]\n")
    _, result = run(tmp_path, PASSING, failing, args=("--name", "SUBSET"))
    assert result.exit_code == 0, result.output
    assert [line.split(": ")[1].split(" (")[0] for line in result.stdout.splitlines()[:-1]] == [
        "subset and headers"
    ]
    assert result.stdout.splitlines()[-1].startswith("1 passed in ")
    # repeatable: any of them
    _, result = run(tmp_path, PASSING, failing, args=("--name", "subset", "--name", "fail"))
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-1].startswith("1 passed, 1 failed in ")


def test_a_name_that_matches_nothing_is_a_usage_error(tmp_path: Path) -> None:
    path, result = run(tmp_path, PASSING, args=("--name", "subst and"))
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"error: --name 'subst and' matches none of the 1 test(s) in {path} (did you mean "
        "'subset and headers'?); give part of a test's name (case is ignored)\n"
    )
    path, result = run(tmp_path, PASSING, args=("--name", "subset", "--name", "zzz"))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --name 'zzz' matches none of the 1 test(s) in ")
    assert len(result.stderr.splitlines()) == 1


def _line_of(path: Path, text: str) -> int:
    """The line of ``path`` where ``text`` is first written (1-based)."""
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


TABLES = """\
app: tm-tables
topics:
  orders: {}
tables:
  means: {}
agents:
  agg:
    from: orders
    steps:
      - mean: {table: means, value: qty}
tests:
  - name: means
    input:
      orders:
        - {key: ada, value: {qty: 2}}
        - {key: ada, value: {qty: 4}}
        - {key: bob, value: {qty: 1}}
    expect:
      tables:
        means: {match: subset, rows: {ada: {mean: MEAN}}}
"""


def test_a_table_in_match_subset_compares_only_the_keys_and_fields_given(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(TABLES.replace("MEAN", "3.0"))
    result = cli("test", path)
    assert result.exit_code == 0, result.output
    path.write_text(TABLES.replace("MEAN", "2.5"))
    result = cli("test", path)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[1:4] == [
        "  table 'means' (match: subset):",
        '    -ada: {"mean": 2.5}',
        '    +ada: {"count": 2, "mean": 3.0, "sum": 6}',
    ]
    assert result.stdout.splitlines()[4] == "    key ada: value.mean: expected 2.5, written 3.0"
