"""Check a pipeline test's data against the pipeline's App before any test runs: ``given`` values, input keys and values.

``streamctl test`` refuses bad test data as bad input (exit 2, ``file:line:column``)
before the first test runs, instead of writing it silently or failing the run: a
``given`` value is checked against its table as ``streamctl table set`` checks it
(:func:`streamctl.admin.values.fit_value`) and written as it would write it, and an input record's key and value are
encoded with the topic's serializers as they would be sent. Values are not validated
against the topic's model: a test may send an invalid record on purpose, to see it
dead-lettered.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from streamctl.exceptions import StreamctlError
from streamctl.pipeline.errors import Problem
from streamctl.pipeline.testspec import PipelineTest


def input_key(topic: Any, key: Any) -> Any:
    """The key a test record is sent with on ``topic``: on a text-keyed topic YAML's
    ``key: 2024`` is the text "2024" and ``key: 2026-12-07`` the text of the date, as
    they would be in a value; any other key as written."""
    if topic.key_type is str:
        if isinstance(key, (int, float, bool)):
            return json.dumps(key)
        if isinstance(key, dt.date):
            return key.isoformat()
    return key


def check_data(app: Any, test: PipelineTest) -> list[Problem]:
    """Every problem in ``test``'s data for ``app`` (the pipeline's App), positioned.
    ``given`` values are replaced by the values their tables hold (``2`` in a float
    table is ``2.0``; a set table's list is a set), as ``table set`` writes them."""
    from streamctl.admin.values import BadValue, fit_value

    problems: list[Problem] = []
    for name, rows in test.given.items():
        table = app.tables[name]
        for key, value in rows.items():
            try:
                rows[key] = fit_value(table, value)  # as table set writes it: 2 is 2.0
            except BadValue as exc:
                here = test.path + ("given", name, key)
                problems.append(test.doc.problem(here, f"test {test.name!r}: {_reason(exc)}"))
    for name, records in test.inputs:
        topic = app.topic(name)
        for r in records:
            for what, serde, data in (
                ("key", topic.key_serde, input_key(topic, r.key)),
                ("value", topic.value_serde, r.value),
            ):
                try:
                    serde.dumps(data)
                except (StreamctlError, TypeError, ValueError) as exc:
                    message = (
                        f"test {test.name!r}: topic {name!r} cannot carry this {what} "
                        f"({_show(data)}): {_reason(exc)}"
                    )
                    problems.append(test.doc.problem(r.path + (what,), message))
    return problems


@contextmanager
def fresh_app(pipeline: Path) -> Iterator[Any]:
    """The pipeline's App on the in-memory broker, in a temporary data dir, both gone
    on the way out (nothing is left behind); PipelineError when it does not load."""
    from streamctl.pipeline.loader import load_for_test
    from streamctl.transport.memory.broker import MemoryBroker

    datadir = Path(tempfile.mkdtemp(prefix="streamctl-test-"))
    try:
        app = load_for_test(pipeline, datadir).app
        try:
            yield app
        finally:
            app.close()
    finally:
        MemoryBroker.forget(datadir)
        shutil.rmtree(datadir, ignore_errors=True)


def check_tests(pipeline: Path, tests: list[PipelineTest]) -> list[Problem]:
    """Every problem in the data of ``tests`` of ``pipeline`` (loaded once, see
    :func:`fresh_app`); PipelineError when the pipeline does not load."""
    with fresh_app(pipeline) as app:
        return [p for t in tests for p in check_data(app, t)]


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _reason(exc: Exception) -> str:
    return str(getattr(exc, "message", None) or exc)
