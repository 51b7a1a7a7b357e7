"""``streamctl test``: run pipeline unit tests on the in-memory broker and report them (text, JSON, GitHub, JUnit)."""

from __future__ import annotations

import json
import re
import time
import xml.etree.ElementTree as ET
from enum import Enum
from pathlib import Path
from typing import Any

import typer

from streamctl.cli.common import err, out, setup_logging
from streamctl.cli.output import write_file
from streamctl.cli.validate import _annotation, _as_dict, _escape, expand_paths
from streamctl.exceptions import ConfigurationError
from streamctl.pipeline.errors import PipelineError, Problem
from streamctl.pipeline.limits import TEST_TIMEOUT

#: exit code when a test failed (2 stays for bad input: a pipeline or test file with a problem)
TESTS_FAILED = 1


class TestFormat(str, Enum):
    """How ``test`` reports."""

    text = "text"
    json = "json"
    github = "github"
    junit = "junit"


def test(
    paths: list[str] = typer.Argument(
        ...,
        help="Pipeline files, their NAME_test.yaml files, folders or globs.",
        show_default=False,
        metavar="PATH...",
    ),
    format: TestFormat = typer.Option(
        TestFormat.text,
        "--format",
        "-f",
        help="text: a line per test and diffs; json: one JSON document; github: GitHub "
        "Actions ::error annotations; junit: JUnit XML (all on stdout).",
        metavar="text|json|github|junit",
    ),
    junit_xml: Path | None = typer.Option(
        None,
        "--junit-xml",
        help="Also write a JUnit XML report to this file (as pytest --junitxml).",
        metavar="FILE",
    ),
    names: list[str] = typer.Option(
        None,
        "--name",
        help="Run only the tests whose name contains TEXT, ignoring case (repeatable: any "
        "of them), as pytest -k; every file is still checked.",
        metavar="TEXT",
    ),
    timeout: float = typer.Option(
        TEST_TIMEOUT,
        "--timeout",
        help="Seconds a test's run may take; a run still busy then is stopped and fails.",
        min=0.1,
        metavar="SECONDS",
    ),
    log_level: str = typer.Option(
        "error",
        "--log-level",
        help="Log level of the pipelines' own logging on stderr (error: parked records a "
        "test expects are not reported twice).",
        metavar="LEVEL",
    ),
) -> None:
    """Run pipeline unit tests: `tests:` in a pipeline file and NAME_test.yaml beside it.

    Each test sends its input records, runs the pipeline's real worker on the in-memory
    broker (no broker, nothing left on disk) until the input is drained, and compares
    the expected topic records and table contents exactly, with a diff on failure.
    Every file is checked before any test runs.

    Exit 0 when every test passed, 1 when one failed, 2 on bad input (a pipeline or
    test file with a problem, reported as file:line:column; a folder with no tests).

    Example: streamctl test pipelines/ --format junit > report.xml
    Example: streamctl test pipelines/wordcount.yaml --name "every word"
    """
    from streamctl.pipeline.testfiles import is_test_file, pipeline_of
    from streamctl.pipeline.testrun import run_test

    setup_logging(log_level)
    pipelines: list[Path] = []
    problems: list[Problem] = []
    for path in expand_paths(paths, tests=True):
        try:
            pipeline = pipeline_of(path) if is_test_file(path) else path
        except PipelineError as exc:
            problems += exc.problems
            continue
        if pipeline not in pipelines:
            pipelines.append(pipeline)
    planned = []
    for pipeline in pipelines:
        found = _check(pipeline, problems)
        planned += [(pipeline, t) for t in found]
    if problems:
        _bad_input(problems, format, junit_xml)
    if not planned:
        if junit_xml is not None:  # as pytest: an empty report when nothing was collected
            write_file(junit_xml, _junit([], 0.0), "--junit-xml")
        if format is TestFormat.junit:
            _junit_out([], 0.0)
        raise ConfigurationError(
            f"no tests in {', '.join(paths)}: add tests: to a pipeline or a NAME_test.yaml"
        )
    if names:
        planned = _chosen(planned, names, paths)
    started = time.monotonic()
    results = [run_test(pipeline, t, timeout) for pipeline, t in planned]
    elapsed = time.monotonic() - started
    _REPORTS[format](results, elapsed)
    if junit_xml is not None:
        write_file(junit_xml, _junit(results, elapsed), "--junit-xml")
    if any(not r.passed for r in results):
        raise typer.Exit(TESTS_FAILED)


def _chosen(planned: list[Any], names: list[str], paths: list[str]) -> list[Any]:
    """The tests whose name contains one of ``names`` (ignoring case, as pytest -k);
    ConfigurationError (bad input, exit 2) for a ``--name`` that matches none, naming
    the closest test name when there is one."""
    import difflib

    every = [t.name for _, t in planned]
    for text in names:
        if not any(text.casefold() in n.casefold() for n in every):
            close = difflib.get_close_matches(text, every, n=1, cutoff=0.4)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigurationError(
                f"--name {text!r} matches none of the {len(every)} test(s) in "
                f"{', '.join(paths)}{hint}; give part of a test's name (case is ignored)"
            )
    wanted = [n.casefold() for n in names]
    return [(p, t) for p, t in planned if any(w in t.name.casefold() for w in wanted)]


def _check(pipeline: Path, problems: list[Problem]) -> list[Any]:
    """The tests of ``pipeline`` once it and they are clean (problems added otherwise)."""
    from streamctl.pipeline import check_pipeline
    from streamctl.pipeline.testcheck import check_tests
    from streamctl.pipeline.testrun import collect_tests

    errors = [p for p in check_pipeline(pipeline) if not p.warning]
    try:
        tests = collect_tests(pipeline)
    except PipelineError as exc:
        seen = set(errors)
        errors += [p for p in exc.problems if p not in seen]
    else:
        if not errors:  # the data: given values, input keys and values (loads the App)
            try:
                errors += check_tests(pipeline, tests)
            except PipelineError as exc:
                errors += exc.problems
    problems += errors
    return [] if errors else tests


def _bad_input(problems: list[Problem], format: TestFormat, junit_xml: Path | None) -> None:
    """Report the problems that stop every test (exit 2); a JUnit report (``--format
    junit`` or ``--junit-xml``) gets an error testcase per file, as pytest writes a
    collection error, so CI shows why no test ran."""
    problems = sorted(problems, key=Problem.sort_key)
    if format is TestFormat.junit:
        out.print(_junit_errors(problems), markup=False, end="")
    elif format is TestFormat.json:
        out.print(
            json.dumps({"ok": False, "problems": [_as_dict(p) for p in problems]}), markup=False
        )
    elif format is TestFormat.github:
        for p in problems:
            out.print(_annotation(p), markup=False)
    for p in problems:
        err.print(str(p), markup=False)
    if (
        junit_xml is not None
    ):  # after the problems: a report that cannot be written is one more line
        write_file(junit_xml, _junit_errors(problems), "--junit-xml")
    raise typer.Exit(2)


def _summary(results: list[Any], elapsed: float) -> str:
    failed = sum(not r.passed for r in results)
    parts = [f"{len(results) - failed} passed"] + ([f"{failed} failed"] if failed else [])
    return f"{', '.join(parts)} in {elapsed:.2f}s"


#: control characters (C0 but newline, DEL, C1): a terminal would act on them
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def _shown(text: str, newlines: bool = False) -> str:
    """``text`` with each control character written as ``\\xNN`` (a test name or a
    run's error may hold terminal escape sequences: printed raw they would recolour or
    clear the terminal); newlines are kept when ``newlines`` (a diff's lines)."""
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return text if newlines else text.replace("\n", "\\n")


def _text(results: list[Any], elapsed: float) -> None:
    for r in results:
        pipeline, name = _shown(r.pipeline), _shown(r.name)
        if r.passed:
            out.print(f"PASS {pipeline}: {name} ({r.seconds:.2f}s)", markup=False)
            continue
        out.print(f"FAIL {pipeline}: {name} ({_shown(r.file)}:{r.line})", markup=False)
        for failure in r.failures:
            out.print("  " + _shown(failure, True).replace("\n", "\n  "), markup=False)
    out.print(_summary(results, elapsed), markup=False)


def _as_json(r: Any) -> dict[str, Any]:
    return {
        "pipeline": r.pipeline,
        "name": r.name,
        "file": r.file,
        "line": r.line,
        "passed": r.passed,
        "seconds": round(r.seconds, 4),
        "failures": r.failures,
    }


def _json(results: list[Any], elapsed: float) -> None:
    doc = {
        "ok": all(r.passed for r in results),
        "passed": sum(r.passed for r in results),
        "failed": sum(not r.passed for r in results),
        "seconds": round(elapsed, 4),
        "tests": [_as_json(r) for r in results],
    }
    out.print(json.dumps(doc), markup=False)


def _github(results: list[Any], elapsed: float) -> None:
    for r in results:
        if not r.passed:
            where = f"file={_escape(r.file, True)},line={r.line}"
            title = _escape(f"streamctl test: {r.name}", True)
            message = _escape("\n".join(r.failures), False)
            out.print(f"::error {where},title={title}::{message}", markup=False)
    out.print(_summary(results, elapsed), markup=False)


#: characters XML 1.0 cannot hold, not even escaped (control characters, lone surrogates)
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    """``text`` with each character XML cannot hold written as ``\\uXXXX`` (a test name
    or a record's data may hold control characters; the report must still parse)."""
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _junit(results: list[Any], elapsed: float) -> str:
    """JUnit XML: one testsuite per pipeline file, one testcase per test."""
    root = ET.Element("testsuites", name="streamctl test", tests=str(len(results)))
    root.set("failures", str(sum(not r.passed for r in results)))
    root.set("time", f"{elapsed:.3f}")
    suites: dict[str, ET.Element] = {}
    for r in results:
        pipeline, name, file = _xml_text(r.pipeline), _xml_text(r.name), _xml_text(r.file)
        suite = suites.get(pipeline)
        if suite is None:
            suite = suites[pipeline] = ET.SubElement(root, "testsuite", name=pipeline)
        case = ET.SubElement(
            suite, "testcase", name=name, classname=pipeline, file=file, line=str(r.line)
        )
        case.set("time", f"{r.seconds:.3f}")
        if not r.passed:
            text = _xml_text("\n\n".join(r.failures))
            failure = ET.SubElement(case, "failure", message=text.splitlines()[0])
            failure.text = text
    for suite in suites.values():
        cases = list(suite)
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
        suite.set("time", f"{sum(float(c.get('time', 0)) for c in cases):.3f}")
    return _xml_doc(root)


def _xml_doc(root: ET.Element) -> str:
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _junit_errors(problems: list[Problem]) -> str:
    """JUnit XML for bad input: one testcase per file with problems, each with an
    ``error`` (pytest's shape for a file that fails to collect)."""
    files: dict[str, list[Problem]] = {}
    for p in problems:
        files.setdefault(p.file, []).append(p)
    root = ET.Element("testsuites", name="streamctl test", tests=str(len(files)))
    root.set("errors", str(len(files)))
    suite = ET.SubElement(root, "testsuite", name="streamctl test", tests=str(len(files)))
    suite.set("errors", str(len(files)))
    for file, found in files.items():
        case = ET.SubElement(suite, "testcase", name=_xml_text(file), classname="streamctl test")
        case.set("file", _xml_text(file))
        text = _xml_text("\n".join(str(p) for p in found))
        error = ET.SubElement(case, "error", message=text.splitlines()[0])
        error.text = text
    return _xml_doc(root)


def _junit_out(results: list[Any], elapsed: float) -> None:
    out.print(_junit(results, elapsed), markup=False, end="")


_REPORTS = {
    TestFormat.text: _text,
    TestFormat.json: _json,
    TestFormat.github: _github,
    TestFormat.junit: _junit_out,
}
