"""Shared fixtures: one transport per implementation, and a real Kafka broker on demand."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support import KAFKA_SCRIPT, ROOT, kafka_reachable

from streamctl.transport import Consumer, Transport, open_transport

KAFKA_BOOTSTRAP = os.environ.get(
    "STREAMCTL_KAFKA_BOOTSTRAP", f"127.0.0.1:{os.environ.get('STREAMCTL_KAFKA_PORT', '19092')}"
)
TRANSPORTS = [
    pytest.param("local", id="local"),
    pytest.param("kafka", id="kafka", marks=pytest.mark.kafka),
    pytest.param("memory", id="memory"),
    pytest.param("kafka+confluent", id="confluent", marks=pytest.mark.kafka),
]


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[str]:
    """The bootstrap address of a running Kafka broker, started here if need be.

    Uses the broker already answering at ``STREAMCTL_KAFKA_BOOTSTRAP`` (default
    127.0.0.1:19092), else runs ``scripts/kafka.sh start`` (needs a JDK; the
    first start downloads Kafka's jars) and stops it again at the end of the
    session unless ``STREAMCTL_KAFKA_KEEP=1``. Fails, never skips, when no
    broker can be had: a silently skipped Kafka suite proves nothing.
    """
    if kafka_reachable(KAFKA_BOOTSTRAP):
        yield KAFKA_BOOTSTRAP
        return
    env = {**os.environ, "PYTHON": sys.executable}
    try:
        proc = subprocess.run(
            ["bash", str(KAFKA_SCRIPT), "start"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"scripts/kafka.sh start did not finish in {exc.timeout}s", pytrace=False)
    if proc.returncode != 0 or not kafka_reachable(KAFKA_BOOTSTRAP):
        pytest.fail(
            f"could not start Kafka with scripts/kafka.sh (exit {proc.returncode}):\n"
            f"{proc.stderr[-4000:]}",
            pytrace=False,
        )
    try:
        yield KAFKA_BOOTSTRAP
    finally:
        if not os.environ.get("STREAMCTL_KAFKA_KEEP"):
            subprocess.run(["bash", str(KAFKA_SCRIPT), "stop"], cwd=ROOT, env=env, timeout=60)


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Transport]:
    """A fresh transport of each kind (local, memory: a new data dir; kafka: the shared broker)."""
    if request.param in ("local", "memory"):
        url = f"{request.param}://"
    else:
        url = f"{request.param}://{request.getfixturevalue('kafka_broker')}"
    t = open_transport(url, datadir=tmp_path / "data")
    yield t
    t.close()


@pytest.fixture
def run_id() -> str:
    """A short id unique to this test, for names on a broker that outlives it."""
    return uuid.uuid4().hex[:8]


@pytest.fixture
def topic_name(run_id: str) -> Callable[[str], str]:
    """Unique topic names, so tests never see each other's records on a shared broker."""
    return lambda base="t": f"{base}-{run_id}"


@pytest.fixture
def consumers(transport: Transport, run_id: str) -> Iterator[Callable[[str | None], Consumer]]:
    """Open consumers that are closed (leaving their groups) when the test ends.

    Group ids get this test's run id appended: a group shared with another test
    run on the same broker (or a stale member of an earlier one) would rebalance
    under the test or refuse its commits.
    """
    opened: list[Consumer] = []

    def make(group_id: str | None) -> Consumer:
        consumer = transport.consumer(None if group_id is None else f"{group_id}-{run_id}")
        opened.append(consumer)
        return consumer

    yield make
    for consumer in opened:
        consumer.close()
