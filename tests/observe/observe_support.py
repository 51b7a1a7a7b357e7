"""Helpers for the production tests (#15): a pipeline with a table, an output and dead
letters; a worker process serving its metrics on a free port."""

from __future__ import annotations

import json
import re
import signal
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from support import cli, streamctl_process

PIPELINE = """\
app: {app}
models:
  Word:
    fields:
      w: str
      n: {{type: int, min: 1}}
topics:
  words: {{partitions: 2, value_type: Word, dead_letter: words-bad}}
  out: {{partitions: 2}}
tables:
  counts: {{default: int, partitions: 2}}
agents:
  count:
    from: words
    steps:
      - group_by: w
      - count: counts
      - to: out
"""


def pipeline(tmp_path: Path, app: str = "obs", settings: str = "") -> Path:
    """The pipeline file (``settings``: YAML lines of a settings section to add)."""
    path = tmp_path / f"{app}.yaml"
    extra = f"settings:\n{settings}" if settings else ""
    path.write_text(PIPELINE.format(app=app) + extra)
    return path


def send(pipe: Path, datadir: Path, records: list[dict[str, Any]]) -> None:
    tmp = datadir.parent / f"input-{time.monotonic_ns()}.jsonl"
    tmp.write_text("".join(json.dumps(r) + "\n" for r in records))
    result = cli("send", "words", "-p", pipe, "-d", datadir, "--file", tmp)
    assert result.exit_code == 0, result.output


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def get_json(url: str) -> tuple[int, Any]:
    code, body = get(url)
    return code, json.loads(body)


def wait_for(check: Any, timeout: float = 30.0) -> Any:
    """Call ``check()`` until it returns a true value; AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting ({check})")
        time.sleep(0.1)


@contextmanager
def worker(pipe: Path, datadir: Path, *extra: str) -> Iterator[str]:
    """``streamctl run PIPE --metrics-port 0`` in a process; yields its base URL once it
    is ready; SIGTERM on exit (it must exit 0)."""
    proc = streamctl_process(
        "run", pipe, "-d", datadir, "--metrics-port", "0", "--log-level", "info", *extra
    )
    lines: list[str] = []
    found = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if "web view on" in line:
                found.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not found.wait(60):
            proc.kill()
            raise AssertionError("the worker did not serve:\n" + "".join(lines))
        url = re.search(r"web view on (http://\S+/)", "".join(lines))
        assert url is not None
        base = url.group(1)
        wait_for(lambda: get(base + "readyz")[0] == 200)
        yield base
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        code = proc.wait(60)
        assert code == 0, "".join(lines)


def metric(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in a Prometheus exposition (None if absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        sample, _, value = line.rpartition(" ")
        if "{" in sample:
            sname, _, rest = sample.partition("{")
            got = ",".join(sorted(rest.rstrip("}").split(",")))
        else:
            sname, got = sample, ""
        if sname == name and got == want:
            return float(value)
    return None
