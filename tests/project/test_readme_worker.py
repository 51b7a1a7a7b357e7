"""The README's Python API example runs as a real worker in its own process (#9 §4)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from support import ROOT

from streamctl.transport.local import LocalTransport

README = (ROOT / "README.md").read_text()
FOUND = re.search(r"```python\n(import streamctl.*?)```", README, re.S)
assert FOUND is not None, "the README lost its Python example"
CODE = FOUND.group(1)

ORDERS = [("ada", 2, 80.0), ("bob", 1, 5.0), ("ada", 0, 99.0), ("cy", 3, 40.0), ("bob", 2, 50.0)]


def script(tmp_path: Path, code: str) -> Path:
    """The example as a file, its data dir in ``tmp_path`` (the only change)."""
    data = tmp_path / "data"
    code = code.replace('broker="local://")', f'broker="local://", datadir={str(data)!r})')
    assert str(data) in code
    path = tmp_path / "readme_app.py"
    path.write_text(code)
    return path


def load(path: Path) -> dict[str, Any]:
    """The example's module, imported in this process (without running the worker)."""
    ns: dict[str, Any] = {"__name__": "readme_app"}
    exec(compile(path.read_text(), str(path), "exec"), ns)  # the README's own code, on purpose
    return ns


def start(path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=path.parent,
    )


def large_orders(path: Path) -> list[Any]:
    """The values in the example's sink topic so far ([] before it exists)."""
    from streamctl.testing import read_topic

    app = load(path)["app"]
    try:
        if "large-orders" not in app.transport.list_topics():
            return []
        return [e.value for e in read_topic(app, "large-orders")]
    finally:
        app.close()


def topics(path: Path) -> dict[str, int]:
    transport = LocalTransport(datadir=path.parent / "data")
    try:
        return {n: s.partitions for n, s in transport.list_topics().items()}
    finally:
        transport.close()


def test_the_python_example_runs_as_a_worker(tmp_path: Path) -> None:
    from streamctl.testing import read_table, send

    path = script(tmp_path, CODE)
    ns = load(path)
    for customer, quantity, price in ORDERS:
        order = ns["Order"](customer_id=customer, quantity=quantity, price=price)
        send(ns["app"], "orders", order, key=customer)
    ns["app"].close()
    expected: dict[str, float] = {}
    for customer, quantity, price in ORDERS:
        if quantity > 0:
            expected[customer] = expected.get(customer, 0.0) + price * quantity
    want = sorted(c for c, q, p in ORDERS if q > 0 and p * q >= 100)
    proc = start(path)
    try:
        # the sink's records commit with the table's changelog: once all are there,
        # the batch is done (reading only the topic leaves the worker's stores alone)
        deadline = time.monotonic() + 60
        while len(large_orders(path)) < len(want):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the worker did not process the orders in 60 s"
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert read_table(load(path)["app"], "revenue") == expected
    assert sorted(v["customer_id"] for v in large_orders(path)) == want == ["ada", "bob", "cy"]
    assert topics(path)["orders-revenue-changelog"] == 4


def test_a_table_partitioned_unlike_its_topic_is_refused_before_anything_is_created(
    tmp_path: Path,
) -> None:
    # the example as it was: the table on the default 1 partition, its topic on 4
    old = CODE.replace(
        'app.Table("revenue", default=float, partitions=4)', 'app.Table("revenue", default=float)'
    )
    assert old != CODE
    path = script(tmp_path, old)
    proc = start(path)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert (
        "table 'revenue' has 1 partition(s) but topic 'orders', whose events write it, has 4" in err
    )
    assert "partitions=4" in err
    assert topics(path) == {}  # no topic, no changelog
    assert not (path.parent / "data" / "stores").exists()
    # following the advice works at once: nothing was left behind to contradict it
    fixed = script(tmp_path, CODE)
    proc = start(fixed)
    # running once its topics exist (its signal handlers come first): a condition, not
    # a sleep, so a loaded machine cannot signal it before it can stop cleanly
    deadline = time.monotonic() + 120
    while "orders-revenue-changelog" not in topics(fixed):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the worker did not start in 120 s"
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert topics(fixed)["orders-revenue-changelog"] == 4
