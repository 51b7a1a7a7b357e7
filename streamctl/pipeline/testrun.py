"""Run pipeline unit tests (``streamctl test``) on the in-memory broker: find, check, run, compare.

Each test gets a fresh App from the pipeline file on ``memory://`` with in-memory
table stores, in a temporary data dir removed afterwards (nothing is left behind):
``given`` rows are written to the tables through their changelogs, ``input`` records
are sent in order, the real worker runs until its input is drained
(:func:`streamctl.testing.run_until_idle`), and the topics and tables named under
``expect`` are read back and compared (:mod:`streamctl.pipeline.testdiff`). Tests are
found by :mod:`streamctl.pipeline.testfiles`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamctl.pipeline.errors import PipelineError
from streamctl.pipeline.limits import TEST_TIMEOUT
from streamctl.pipeline.loader import read_pipeline_spec
from streamctl.pipeline.testcheck import fresh_app, input_key
from streamctl.pipeline.testdiff import Actual, compare_records, compare_table
from streamctl.pipeline.testfiles import gather_tests
from streamctl.pipeline.testspec import PipelineTest


def collect_tests(pipeline: Path) -> list[PipelineTest]:
    """Every test of ``pipeline`` (inline, then its test files), checked against the
    pipeline's topics and tables; PipelineError with every problem (positioned) when
    the pipeline file or a test has one. Nothing is run or imported."""
    spec = read_pipeline_spec(pipeline)
    tests, problems = gather_tests(spec, pipeline)
    if problems:
        raise PipelineError(problems)
    return tests


@dataclass
class TestResult:
    """One test's outcome: ``failures`` are readable messages (with diffs); none = passed."""

    name: str
    pipeline: str
    file: str
    line: int
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def run_test(pipeline: Path, test: PipelineTest, timeout: float = TEST_TIMEOUT) -> TestResult:
    """Run one test in a fresh in-memory App; failures (a mismatch, an error at run
    time, a run still busy after ``timeout`` seconds) are in the result, never raised.
    PipelineError when the pipeline file has a problem loading (a plugin that does not
    import)."""
    result = TestResult(test.name, str(pipeline), test.file, test.line)
    started = time.monotonic()
    try:
        with fresh_app(pipeline) as app:
            _run(app, test, result, timeout)
    finally:
        result.seconds = time.monotonic() - started
    return result


def _run(app: Any, test: PipelineTest, result: TestResult, timeout: float) -> None:
    from streamctl.admin import tables as admin
    from streamctl.admin import windows as admin_windows
    from streamctl.testing import read_table, read_topic, send

    now = time.time()
    try:
        for table, rows in test.given.items():
            for key, value in rows.items():
                admin.put(app, table, key, value)
        for topic, records in test.inputs:
            declared = app.topics[topic]
            for r in records:
                headers = [(k, v.encode()) for k, v in r.headers.items()]
                stamp = r.timestamp if r.timestamp is not None else now
                key = input_key(declared, r.key)
                send(app, topic, r.value, key=key, headers=headers or None, timestamp=stamp)
        if not _run_until_idle(app, timeout):
            result.failures.append(
                f"the run did not go idle within {timeout:g}s (does an agent write to a "
                "topic it reads?); give --timeout to wait longer"
            )
            return
    except Exception as exc:  # the pipeline failed at run time (a StreamctlError or not)
        result.failures.append(f"the run failed: {type(exc).__name__}: {exc}")
        return
    for e in test.topics:
        try:
            events = read_topic(app, e.topic) if e.topic in app.transport.list_topics() else []
        except Exception as exc:
            result.failures.append(f"topic {e.topic!r}: cannot read it back: {exc}")
            continue
        actual = []
        for ev in events:
            written = _headers(ev.message.headers)
            actual.append(
                Actual(
                    key=_text(ev.key),
                    value=ev.value,
                    timestamp=ev.message.timestamp,
                    reason=written.get("streamctl.error"),
                    headers=written,
                )
            )
        try:
            message = compare_records(e.topic, e.match, e.records, actual)
        except RecursionError:  # a value the pipeline built (json() of a text) too deep
            message = f"topic {e.topic!r}: {_TOO_DEEP}"
        if message:
            result.failures.append(message)
    for te in test.tables:
        table = app.tables[te.table]
        if admin_windows.is_windowed(table):
            contents: Any = admin_windows.window_rows(app, te.table)
        else:
            contents = read_table(app, te.table)
        try:
            message = compare_table(te.table, te.match, te.rows, contents)
        except RecursionError:
            message = f"table {te.table!r}: {_TOO_DEEP}"
        if message:
            result.failures.append(message)


_TOO_DEEP = "a written value is nested too deeply to compare (Python's recursion limit)"


def _run_until_idle(app: Any, timeout: float) -> bool:
    """Run the app's real worker until its input is drained (as
    :func:`streamctl.testing.run_until_idle`); False when it was still busy after
    ``timeout`` seconds (it is then stopped as SIGTERM stops it: the batch finished).
    KeyboardInterrupt when a signal stopped it."""
    worker = app.worker(until_idle=True)
    expired = threading.Event()

    def stop() -> None:
        expired.set()
        worker.stop()

    timer = threading.Timer(timeout, stop)
    timer.daemon = True
    timer.start()
    try:
        worker.run()
    finally:
        timer.cancel()
    if worker._stopping and not expired.is_set():
        # Ctrl-C or SIGTERM stopped the worker (its batch finished): stop every test,
        # as pytest does, rather than report a half-run test and start the next one
        raise KeyboardInterrupt
    return not expired.is_set()


def _text(key: Any) -> Any:
    """A key as the pipeline wrote it: bytes keys (a topic with no key type) as text."""
    if isinstance(key, bytes):
        try:
            return key.decode()
        except UnicodeDecodeError:
            return key
    return key


def _headers(headers: Any) -> dict[str, str]:
    """A record's headers as text (UTF-8, undecodable bytes replaced); of a name written
    twice, the last value (Kafka allows repeats)."""
    return {
        str(k): v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
        for k, v in headers or []
    }
