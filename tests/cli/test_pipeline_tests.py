"""``streamctl test``: pipeline unit tests on the in-memory broker, reports, exit codes (#13)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from support import ROOT, cli

PIPELINE = """\
app: t-{name}
topics:
  orders: {{partitions: 2}}
  big: {{partitions: 2}}
  bad: {{partitions: 1}}
tables:
  totals: {{default: float}}
  prices: {{kind: global}}
agents:
  sum:
    from: orders
    dead_letter: bad
    steps:
      - lookup: {{table: prices, key: product, as: price, on_missing: dead_letter}}
      - map: {{total: "price * qty"}}
      - sum: {{table: totals, value: total}}
      - filter: "total >= 10"
      - to: big
"""

PASSING = """\
tests:
  - name: sums and forwards the big ones
    given:
      prices: {pen: 2.0, ink: 5.0}
    input:
      orders:
        - {key: ada, value: {product: pen, qty: 1}, timestamp: 2026-12-01T10:00:00Z}
        - {key: ada, value: {product: ink, qty: 2}, timestamp: 1764583201}
        - {key: bob, value: {product: cake, qty: 1}}
    expect:
      tables:
        totals: {ada: 12.0}
      topics:
        big:
          - {key: ada, value: {product: ink, qty: 2, price: 5.0, total: 10.0}, timestamp: 1764583201}
        bad:
          - {key: bob, value: {product: cake, qty: 1}, reason: "no row for key 'cake'"}
"""


def write(tmp_path: Path, tests: str, name: str = "p", inline: bool = True) -> Path:
    path = tmp_path / f"{name}.yaml"
    text = PIPELINE.format(name=name)
    if inline:
        path.write_text(text + tests)
    else:
        path.write_text(text)
        (tmp_path / f"{name}_test.yaml").write_text(tests)
    return path


def leftovers() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("streamctl-test-*")}


def test_a_passing_test_exits_0_and_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, PASSING)
    monkeypatch.chdir(tmp_path)
    before = leftovers()
    result = cli("test", path)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"PASS {path}: sums and forwards the big ones (")
    assert lines[1].startswith("1 passed in ")
    assert result.stderr == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.yaml"]  # no .streamctl
    assert leftovers() <= before


def test_a_failing_test_exits_1_with_a_diff_of_records_and_rows(tmp_path: Path) -> None:
    wrong = (
        PASSING.replace("totals: {ada: 12.0}", "totals: {ada: 11.0, bob: 0}")
        .replace("total: 10.0}", "total: 9.0}")
        .replace("reason: \"no row for key 'cake'\"", 'reason: "out of stock"')
    )
    path = write(tmp_path, wrong)
    result = cli("test", path)
    assert result.exit_code == 1
    line = wrong.splitlines().index("  - name: sums and forwards the big ones") + 1
    line += len(PIPELINE.splitlines())
    out = result.stdout
    assert f"FAIL {path}: sums and forwards the big ones ({path}:{line})" in out
    assert (
        "  topic 'big' (match: exact): 1 record(s) written, 1 expected\n"
        '    -{key: "ada", value: {"price": 5.0, "product": "ink", "qty": 2, "total": 9.0}, '
        'timestamp: "2025-12-01T10:00:01Z"}\n'
        '    +{key: "ada", value: {"price": 5.0, "product": "ink", "qty": 2, "total": 10.0}, '
        'timestamp: "2025-12-01T10:00:01Z"}\n'
    ) in out
    assert (
        '    -{key: "bob", value: {"product": "cake", "qty": 1}, reason: "out of stock"}\n' in out
    )
    assert (
        '    +{key: "bob", value: {"product": "cake", "qty": 1}, '
        "reason: \"lookup: no row for key 'cake' in table 'prices'\"}\n"
    ) in out
    assert "  table 'totals' (match: exact):\n" in out
    assert "    -ada: 11.0\n    -bob: 0\n    +ada: 12.0\n" in out
    assert out.splitlines()[-1].startswith("0 passed, 1 failed in ")


def test_tests_in_a_sibling_file_run_from_the_pipeline_the_file_or_the_folder(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, PASSING, inline=False)
    for arg in (path, tmp_path / "p_test.yaml", tmp_path, f"{tmp_path}/*.yaml"):
        result = cli("test", arg)
        assert result.exit_code == 0, (arg, result.output)
        assert result.stdout.count("PASS ") == 1, arg
    # validate checks the pipeline and leaves the test file to `streamctl test`
    result = cli("validate", tmp_path)
    assert (result.exit_code, result.stdout.splitlines()) == (0, [f"ok: {path}"])


@pytest.mark.parametrize(
    "tests, where, message",
    [
        (
            "tests:\n  - name: x\n    input: {orderz: [{value: 1}]}\n    expect: {tables: {totals: {}}}\n",
            (3, 13),
            "test 'x': the pipeline has no topic 'orderz' (did you mean 'orders'?)",
        ),
        (
            "tests:\n  - name: x\n    input: {orders: [{valu: 1}]}\n    expect: {tables: {totals: {}}}\n",
            (3, 22),
            "a record is a mapping with value: (and key:, timestamp:)",
        ),
        (
            "tests:\n  - name: x\n    input: {orders: [{value: 1, timestamp: soon}]}\n"
            "    expect: {tables: {totals: {}}}\n",
            (3, 44),
            "not an ISO 8601 time: 'soon'",
        ),
        (
            "tests:\n  - name: x\n    input: {orders: [{value: 1}]}\n"
            "    expect: {topics: {big: {match: sorted, records: []}}}\n",
            (4, 36),
            "match must be one of exact, ordered, unordered, subset",
        ),
        (
            "tests:\n  - name: x\n    input: {orders: [{value: 1}]}\n",
            (2, 5),
            "test 'x' expects nothing: give expect: topics: or tables:",
        ),
        ("tests:\n  - {input: {}}\n", (2, 5), "a test needs name: (text)"),
    ],
)
def test_a_mistake_in_a_test_is_bad_input_with_its_position(
    tmp_path: Path, tests: str, where: tuple[int, int], message: str
) -> None:
    for inline in (True, False):
        path = write(tmp_path, tests, inline=inline)
        result = cli("test", path)
        assert result.exit_code == 2, result.output
        file = path if inline else tmp_path / "p_test.yaml"
        offset = len(PIPELINE.splitlines()) if inline else 0
        assert result.stderr.splitlines() == [
            f"{file}:{where[0] + offset}:{where[1]}: {message}"
        ], inline
        assert "Traceback" not in result.output
        # validate reports the same problem, as CI runs it before the tests
        checked = cli("validate", path)
        assert checked.exit_code == 1
        assert checked.stderr.splitlines() == result.stderr.splitlines()
        (tmp_path / "p_test.yaml").unlink(missing_ok=True)


def test_a_broken_pipeline_is_bad_input_and_no_test_runs(tmp_path: Path) -> None:
    path = write(tmp_path, PASSING)
    path.write_text(path.read_text().replace("filter:", "filtr:"))
    result = cli("test", path, "-f", "json")
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    assert doc["ok"] is False
    assert [p["message"].split(" (")[0] for p in doc["problems"]] == ["unknown step 'filtr'"]
    assert result.stderr.startswith(f"{path}:17:9: unknown step 'filtr'")


def test_no_tests_at_all_is_bad_input(tmp_path: Path) -> None:
    write(tmp_path, "")
    result = cli("test", tmp_path)
    assert result.exit_code == 2
    assert "no tests in" in result.stderr


def test_json_github_and_junit_reports(tmp_path: Path) -> None:
    failing = PASSING.replace("totals: {ada: 12.0}", "totals: {ada: 1.0}").replace(
        "  - name: sums", "  - name: sums"
    )
    path = write(tmp_path, PASSING + failing.replace("tests:\n", "").replace("sums and", "also"))
    report = tmp_path / "junit.xml"
    result = cli("test", path, "--format", "json", "--junit-xml", report)
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert (doc["ok"], doc["passed"], doc["failed"]) == (False, 1, 1)
    assert [(t["name"], t["passed"]) for t in doc["tests"]] == [
        ("sums and forwards the big ones", True),
        ("also forwards the big ones", False),
    ]
    assert doc["tests"][1]["failures"][0].startswith("table 'totals' (match: exact):")

    suites = ET.parse(report).getroot()
    assert (suites.tag, suites.get("tests"), suites.get("failures")) == ("testsuites", "2", "1")
    cases = suites.findall("testsuite/testcase")
    assert [c.get("name") for c in cases] == [t["name"] for t in doc["tests"]]
    assert cases[0].find("failure") is None
    failure = cases[1].find("failure")
    assert failure is not None and "-ada: 1.0" in (failure.text or "")

    xml = cli("test", path, "-f", "junit")
    assert xml.exit_code == 1
    assert ET.fromstring(xml.stdout).get("failures") == "1"

    gh = cli("test", path, "-f", "github")
    assert gh.exit_code == 1
    (annotation,) = [line for line in gh.stdout.splitlines() if line.startswith("::error ")]
    line = doc["tests"][1]["line"]
    assert annotation.startswith(
        f"::error file={path},line={line},title=streamctl test%3A also forwards the big ones::"
        "table 'totals' (match: exact):%0A"
    )


def test_the_examples_validate_and_pass_their_tests() -> None:
    """What CI runs: every example in pipelines/ is valid and its tests pass."""
    validate = cli("validate", ROOT / "pipelines")
    assert validate.exit_code == 0, validate.output
    result = cli("test", ROOT / "pipelines", "-f", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["failed"] == 0
    tested = {Path(t["pipeline"]).name for t in doc["tests"]}
    assert {"wordcount.yaml", "order_totals.yaml", "router.yaml", "pageviews.yaml"} <= tested
    # their speed: bench/pipeline_tests.py


def test_the_real_command_line_exits_with_the_codes_and_no_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, PASSING)
    run = [sys.executable, "-m", "streamctl.cli.main", "test"]
    ok = subprocess.run([*run, str(path)], capture_output=True, text=True, cwd=tmp_path)
    assert (ok.returncode, ok.stderr) == (0, "")
    path.write_text(path.read_text().replace("{ada: 12.0}", "{ada: 13.0}"))
    failed = subprocess.run([*run, str(path)], capture_output=True, text=True, cwd=tmp_path)
    assert failed.returncode == 1 and "+ada: 12.0" in failed.stdout
    missing = subprocess.run([*run, str(tmp_path / "nope.yaml")], capture_output=True, text=True)
    assert missing.returncode == 2
    assert "Traceback" not in missing.stderr
    assert "no such pipeline file" in missing.stderr


def test_a_pipeline_that_stops_fails_its_test_naming_the_record(tmp_path: Path) -> None:
    path = tmp_path / "stops.yaml"
    path.write_text(
        "app: t-stops\ntopics: {in: {}, out: {}}\n"
        "agents:\n  f:\n    from: in\n    steps: [{filter: 'qty > 0'}, {to: out}]\n"
        "tests:\n"
        "  - name: numbers as keys are text\n"
        "    input: {in: [{key: 2024, value: {qty: 1}}]}\n"
        "    expect: {topics: {out: [{key: '2024', value: {qty: 1}}]}}\n"
        "  - name: a record without qty stops the worker\n"
        "    input: {in: [{value: {}}]}\n"
        "    expect: {topics: {out: []}}\n"
    )
    result = cli("test", path)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"PASS {path}: numbers as keys are text")
    assert lines[1] == f"FAIL {path}: a record without qty stops the worker ({path}:11)"
    assert lines[2].startswith("  the run failed: ")
    assert "in[0]@0" in lines[2] and "filter" in lines[2]


def test_input_from_a_json_lines_file_beside_the_test(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "orders.jsonl").write_text(
        '{"customer": "ada", "product": "pen", "qty": 1}\n\n'
        '{"customer": "ada", "product": "ink", "qty": 2}\n'
    )
    tests = PASSING.split("    input:")[0] + (
        "    input:\n"
        "      orders: {file: data/orders.jsonl, key_field: customer}\n"
        "    expect:\n"
        "      tables: {totals: {ada: 12.0}}\n"
    )
    path = write(tmp_path, tests, inline=False)
    result = cli("test", path)
    assert result.exit_code == 0, result.output
    (tmp_path / "data" / "orders.jsonl").write_text('{"customer": "ada"\n')
    bad = cli("test", path)
    assert bad.exit_code == 2
    assert bad.stderr.startswith(f"{tmp_path / 'p_test.yaml'}:6:22: data/orders.jsonl:1: not JSON")
    (tmp_path / "data" / "orders.jsonl").unlink()
    gone = cli("test", path)
    assert gone.stderr.startswith(
        f"{tmp_path / 'p_test.yaml'}:6:22: input file 'data/orders.jsonl': no such file"
    )


@pytest.mark.parametrize("stamp", [".nan", ".inf", "-5", "1.0e+300", "10000-01-01T00:00:00Z"])
def test_a_timestamp_no_record_can_carry_is_bad_input(tmp_path: Path, stamp: str) -> None:
    tests = (
        "tests:\n"
        "  - name: x\n"
        f"    input: {{orders: [{{key: a, value: {{product: pen, qty: 1}}, timestamp: {stamp}}}]}}\n"
        f"    expect: {{topics: {{big: [{{value: 1, timestamp: {stamp}}}]}}}}\n"
    )
    path = write(tmp_path, tests, inline=False)
    result = cli("test", path)
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and all(
        line.startswith(f"{tmp_path / 'p_test.yaml'}:") for line in lines
    )
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "line",
    [
        "[" * 100_000,  # json.loads' RecursionError
        '{"a": ' * 600 + "1" + "}" * 600,  # decoded, but too deep for the comparison (a traceback)
        "[" * 65 + "]" * 65,  # one level deeper than a YAML file may nest
    ],
)
def test_a_json_lines_file_nested_too_deeply_is_bad_input(tmp_path: Path, line: str) -> None:
    (tmp_path / "deep.jsonl").write_text(line + "\n")
    tests = (
        "tests:\n"
        "  - name: x\n"
        "    input: {orders: {file: deep.jsonl}}\n"
        "    expect: {tables: {totals: {}}}\n"
    )
    path = write(tmp_path, tests, inline=False)
    result = cli("test", path)
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        f"{tmp_path / 'p_test.yaml'}:3:28: deep.jsonl:1: JSON nested deeper than 64 levels"
    ]


def test_a_written_value_too_deep_to_compare_fails_the_test_without_a_traceback(
    tmp_path: Path,
) -> None:
    (tmp_path / "deep.jsonl").write_text(json.dumps({"s": "[" * 700 + "]" * 700}) + "\n")
    pipeline = (
        "app: t-deep\n"
        "topics:\n"
        "  src: {partitions: 1}\n"
        "  out: {partitions: 1}\n"
        "agents:\n"
        "  parse:\n"
        "    from: src\n"
        "    steps:\n"
        '      - map: "json(s)"\n'
        "      - to: out\n"
        "tests:\n"
        "  - name: x\n"
        "    input: {src: {file: deep.jsonl}}\n"
        "    expect: {topics: {out: [{value: [[]], match: subset}]}}\n"
    )
    (tmp_path / "p.yaml").write_text(pipeline)
    result = cli("test", tmp_path / "p.yaml")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "topic 'out': a written value is nested too deeply to compare" in result.output


LOOP = (
    "app: t-loop\n"
    "topics:\n"
    "  a: {partitions: 1}\n"
    "tables:\n"
    "  n: {default: int}\n"
    "agents:\n"
    "  spin:\n"
    "    from: a\n"
    "    steps:\n"
    "      - count: {table: n}\n"
    "      - to: a\n"  # each record writes itself again: never drained
    "tests:\n"
    "  - name: spins\n"
    "    input: {a: [{key: k, value: 1}]}\n"
    "    expect: {tables: {n: {}}}\n"
)


def test_ctrl_c_stops_every_test_and_leaves_nothing_behind(tmp_path: Path) -> None:
    path = tmp_path / "loop.yaml"
    path.write_text(LOOP + LOOP.split("tests:\n")[1].replace("spins", "spins again"))
    before = leftovers()
    run = [sys.executable, "-m", "streamctl.cli.main", "test", str(path), "--timeout", "60"]
    proc = subprocess.Popen(run, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(4)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, (stdout, stderr)
    assert "Traceback" not in stderr and "spins again" not in stdout
    assert leftovers() <= before


def test_a_pipeline_that_never_goes_idle_fails_after_the_timeout(tmp_path: Path) -> None:
    path = tmp_path / "loop.yaml"
    path.write_text(LOOP)
    before = leftovers()
    result = cli("test", path, "--timeout", "1")
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"FAIL {path}: spins ({path}:13)"
    assert lines[1].startswith("  the run did not go idle within 1s")
    assert leftovers() <= before


def test_the_junit_report_parses_when_names_and_data_hold_control_characters(
    tmp_path: Path,
) -> None:
    tests = (
        "tests:\n"
        '  - name: "bell\\x07 <&> ]]>"\n'
        '    input: {orders: [{key: "a\\x02b", value: {product: pen, qty: 1}}]}\n'
        "    given: {prices: {pen: 2.0}}\n"
        "    expect: {tables: {totals: {x: 1}}}\n"
    )
    path = write(tmp_path, tests, inline=False)
    report = tmp_path / "report.xml"
    result = cli("test", path, "--format", "junit", "--junit-xml", report)
    assert result.exit_code == 1, result.output
    for text in (result.stdout, report.read_text()):
        case = ET.fromstring(text).find("testsuite/testcase")
        assert case is not None and case.get("name") == "bell\\u0007 <&> ]]>"
        failure = case.find("failure")
        assert failure is not None and "+a\\u0002b: 2.0" in (failure.text or "")


def test_junit_xml_creates_its_folder_and_an_unwritable_path_is_one_line(tmp_path: Path) -> None:
    """README's CI step writes test-results/pipelines.xml into a folder no one made."""
    path = write(tmp_path, PASSING)
    report = tmp_path / "test-results" / "pipelines.xml"
    result = cli("test", path, "--junit-xml", report)
    assert result.exit_code == 0, result.output
    assert ET.parse(report).getroot().get("tests") == "1"
    bad = cli("test", path, "--junit-xml", tmp_path)
    assert bad.exit_code == 2
    assert bad.stderr.splitlines() == [
        f"error: --junit-xml {tmp_path}: cannot write it: Is a directory"
    ]


def test_a_date_as_a_key_on_a_text_keyed_topic_is_its_text(tmp_path: Path) -> None:
    """YAML reads `key: 2026-12-07` as a date; on a text-keyed topic it is sent as its
    text (as `key: 2024` is "2024"), not a run that fails on the key codec."""
    tests = (
        "tests:\n"
        "  - name: dates\n"
        "    given: {prices: {pen: 10.0}}\n"
        "    input: {orders: [{key: 2026-12-07, value: {product: pen, qty: 1}}]}\n"
        '    expect: {tables: {totals: {"2026-12-07": 10.0}}}\n'
    )
    result = cli("test", write(tmp_path, tests, inline=False))
    assert result.exit_code == 0, result.output
