"""Where a pipeline's unit tests are: inline ``tests:`` and ``NAME_test.yaml`` beside ``NAME.yaml``; their references checked.

Redpanda Connect pairs ``foo.yaml`` with a test file beside it in the same way.
``validate`` reports the problems :func:`gather_tests` finds; ``streamctl test`` refuses
to run with any.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from streamctl.pipeline.errors import PipelineError, Problem
from streamctl.pipeline.limits import FileRefused, read_bounded
from streamctl.pipeline.testspec import PipelineTest, read_tests
from streamctl.pipeline.yamlpos import load_located

TEST_SUFFIXES = ("_test.yaml", "_test.yml")


def is_test_file(path: Path) -> bool:
    """True for ``NAME_test.yaml`` / ``NAME_test.yml``: a test file, not a pipeline."""
    return path.name.endswith(TEST_SUFFIXES)


def pipeline_of(test_file: Path) -> Path:
    """The pipeline a ``NAME_test.yaml`` tests: ``NAME.yaml`` (or ``.yml``) beside it;
    PipelineError at line 1 when neither exists."""
    stem = test_file.name.rsplit("_test.", 1)[0]
    for ext in (".yaml", ".yml"):
        if (test_file.parent / (stem + ext)).is_file():
            return test_file.parent / (stem + ext)
    raise PipelineError(
        [Problem(str(test_file), 1, 1, f"no pipeline {stem}.yaml beside this test file")]
    )


def sibling_test_files(pipeline: Path) -> list[Path]:
    """The ``*_test.yaml`` files beside ``pipeline`` that test it."""
    stem = pipeline.name.rsplit(".", 1)[0]
    return [
        pipeline.parent / (stem + s)
        for s in TEST_SUFFIXES
        if (pipeline.parent / (stem + s)).is_file()
    ]


def gather_tests(spec: Any, pipeline: Path) -> tuple[list[PipelineTest], list[Problem]]:
    """Every test of the pipeline ``spec`` read from ``pipeline`` (inline, then its test
    files) and every problem in them, with the topics and tables they name checked
    against the pipeline's (what ``validate`` reports and ``test`` refuses)."""
    tests, problems = read_tests(spec.located, pipeline.parent)
    for path in sibling_test_files(pipeline):
        try:
            text = read_bounded(path)
        except FileRefused as exc:
            problems.append(Problem(str(path), 1, 1, f"cannot read test file: {exc.message}"))
            continue
        doc, more = load_located(text, str(path))
        problems += more
        if doc is None:
            continue
        if not isinstance(doc.data, dict) or "tests" not in doc.data:
            problems.append(doc.problem((), "a test file is a mapping with tests: [...]"))
            continue
        extra = set(doc.data) - {"tests"}
        for key in sorted(map(str, extra)):
            problems.append(doc.problem((key, "<key>"), f"unknown key {key!r} in a test file"))
        found, more = read_tests(doc, path.parent)
        tests += found
        problems += more
    for t in tests:
        problems += _references(t, spec)
    return tests, problems


def _references(t: PipelineTest, spec: Any) -> list[Problem]:
    """A problem for each topic or table a test names that the pipeline does not declare."""
    from streamctl.pipeline.spec import _hint

    out: list[Problem] = []

    def bad(path: tuple[Any, ...], what: str, name: str, known: Any) -> None:
        message = f"test {t.name!r}: the pipeline has no {what} {name!r}" + _hint(name, known)
        out.append(t.doc.problem(path, message))

    for topic, _ in t.inputs:
        if topic not in spec.topics:
            bad(t.path + ("input", topic, "<key>"), "topic", topic, spec.topics)
    for e in t.topics:
        if e.topic not in spec.topics:
            bad(e.path + ("<key>",), "topic", e.topic, spec.topics)
    for name in t.given:
        if name not in spec.tables:
            bad(t.path + ("given", name, "<key>"), "table", name, spec.tables)
    for te in t.tables:
        if te.table not in spec.tables:
            bad(te.path + ("<key>",), "table", te.table, spec.tables)
    return out
