"""``streamctl test``: test data checked before anything runs, and what reports show (#13)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from support import cli

PIPELINE = """\
app: t-input-{name}
topics:
  orders: {{partitions: 1}}
  out: {{partitions: 1}}
tables:
  revenue: {{default: float}}
agents:
  fw:
    from: orders
    steps:
      - to: out
"""


def write(tmp_path: Path, tests: str, name: str = "p") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(PIPELINE.format(name=name) + tests)
    return path


def test_text_report_escapes_control_characters_in_names_and_failures(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'tests:\n  - name: "evil \\e[31mred\\e[0m"\n'
        "    input:\n      orders:\n"
        '        - {key: "k\\e]0;title\\a", value: {a: 1}}\n'
        "    expect:\n      topics:\n"
        '        out: [{key: "k\\e[2J", value: {a: 1}}]\n',
        "esc",
    )
    result = cli("test", path)
    assert result.exit_code == 1, result.output
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert f"FAIL {path}: evil \\x1b[31mred\\x1b[0m ({path}:" in result.stdout


def test_bad_input_writes_a_junit_report_with_an_error_testcase(tmp_path: Path) -> None:
    path = write(tmp_path, "tests:\n  - name: x\n", "junitbad")
    report = tmp_path / "reports" / "junit.xml"
    result = cli("test", path, "--format", "junit", "--junit-xml", report)
    assert result.exit_code == 2
    assert f"{path}:13:5: test 'x' sends nothing" in result.stderr
    for doc in (result.stdout, report.read_text()):
        root = ET.fromstring(doc)
        assert (root.get("tests"), root.get("errors")) == ("1", "1")
        (case,) = root.iter("testcase")
        assert case.get("file") == str(path)
        (error,) = case.findall("error")
        assert (
            error.get("message")
            == f"{path}:13:5: test 'x' sends nothing: give input: topic: [records]"
        )
        assert "expects nothing" in (error.text or "")


GOOD = """\
  - name: good
    input:
      orders: [{key: ada, value: {a: 1}}]
    expect:
      topics:
        out: [{key: ada, value: {a: 1}}]
"""


def test_a_given_value_the_table_cannot_hold_is_refused_before_any_test_runs(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        "tests:\n" + GOOD + "  - name: typed\n"
        "    given:\n"
        "      revenue: {ada: notafloat, bob: 2}\n"
        "    input:\n      orders: [{key: ada, value: {a: 1}}]\n"
        "    expect:\n      tables:\n        revenue: {bob: 2.0}\n",
        "given",
    )
    result = cli("test", path)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""  # nothing ran, not even the good test
    assert result.stderr == (
        f"{path}:21:22: test 'typed': table 'revenue' holds float values; "
        'value "notafloat" is not one\n'
    )
    # the same table set checks: a number is a float value, so the fixed test passes
    path.write_text(path.read_text().replace("ada: notafloat, ", ""))
    fixed = cli("test", path)
    assert fixed.exit_code == 0, fixed.output


def test_an_input_key_the_topic_cannot_encode_is_refused_before_any_test_runs(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        "tests:\n" + GOOD + "  - name: shaped\n"
        "    input:\n"
        "      orders:\n"
        "        - {key: [1], value: {a: 1}}\n"
        "    expect:\n      topics:\n        out: []\n",
        "keys",
    )
    result = cli("test", path, "-f", "json")
    assert result.exit_code == 2, result.output
    assert "the run failed" not in result.output and "passed" not in result.stdout
    assert result.stderr == (
        f"{path}:22:17: test 'shaped': topic 'orders' cannot carry this key ([1]): "
        "raw codec needs bytes or str, not list\n"
    )


def test_yaml_1_1_boolean_keys_are_refused_with_their_position_and_quoting_passes(
    tmp_path: Path,
) -> None:
    tests = (
        "tests:\n  - name: bools\n"
        "    given:\n      revenue: {on: 1.0}\n"
        "    input:\n      orders:\n        - {key: no, value: {a: yes}}\n"
        "    expect:\n      topics:\n        out: [{key: off, value: {a: true}}]\n"
    )
    path = write(tmp_path, tests, "bools")
    result = cli("test", path)
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        f"{path}:15:17: key on is the boolean true in YAML 1.1 (pipeline files are read "
        'that way), not the text; quote it ("on") or write true',
        f"{path}:18:17: key no is the boolean false in YAML 1.1 (pipeline files are read "
        'that way), not the text; quote it ("no") or write false',
        f"{path}:21:21: key off is the boolean false in YAML 1.1 (pipeline files are read "
        'that way), not the text; quote it ("off") or write false',
    ]  # a value's yes (a: yes) stays YAML 1.1's true: a model's bool field takes it
    quoted = tests.replace("on:", '"on":').replace("key: no", 'key: "no"')
    path.write_text(PIPELINE.format(name="bools") + quoted.replace("key: off", 'key: "no"'))
    fixed = cli("test", path)
    assert fixed.exit_code == 0, fixed.output


def test_no_tests_writes_an_empty_junit_report_and_an_unwritable_one_is_one_more_line(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "", "notests")
    report = tmp_path / "r.xml"
    result = cli("test", path, "--junit-xml", report)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: no tests in")
    assert ET.fromstring(report.read_text()).get("tests") == "0"
    path.write_text(path.read_text() + "tests:\n  - name: x\n")
    bad = cli("test", path, "--junit-xml", tmp_path)
    assert bad.exit_code == 2
    lines = bad.stderr.splitlines()
    assert "sends nothing" in lines[0] and lines[-1].startswith(f"error: --junit-xml {tmp_path}")
