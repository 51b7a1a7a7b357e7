"""Test helpers shared by the test modules (plain functions, no fixtures magic)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from streamctl.cli.main import app as cli_app
from streamctl.transport.base import Message, TopicPartition
from streamctl.transport.local import LocalTransport

ROOT = Path(__file__).resolve().parent.parent
KAFKA_SCRIPT = ROOT / "scripts" / "kafka.sh"


def kafka_reachable(bootstrap: str) -> bool:
    """True when a broker answers a metadata request at ``bootstrap``."""
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
    except OSError:
        return False
    from kafka import KafkaAdminClient

    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, bootstrap_timeout_ms=5000)
        admin.describe_cluster()
        admin.close()
    except Exception:
        return False
    return True


def read_topic(datadir: Path, topic: str) -> list[Message]:
    """Every record of a topic on the embedded broker, partition by partition, in offset order."""
    transport = LocalTransport(datadir=datadir)
    try:
        parts = transport.list_topics()[topic].partitions
        consumer = transport.consumer(None)
        tps = [TopicPartition(topic, p) for p in range(parts)]
        consumer.assign(tps)
        out: list[Message] = []
        while True:
            batch = consumer.poll(10_000)
            if not batch:
                break
            out.extend(batch)
        return sorted(out, key=lambda m: (m.partition, m.offset))
    finally:
        transport.close()


def values(datadir: Path, topic: str) -> list[Any]:
    return [json.loads(m.value) for m in read_topic(datadir, topic) if m.value is not None]


def cli(*args: str, input: str | None = None) -> Any:
    """Invoke the CLI in-process; returns click's Result (exit_code, stdout, stderr)."""
    return CliRunner().invoke(cli_app, [str(a) for a in args], input=input, catch_exceptions=False)


def streamctl_process(*args: str, **kwargs: Any) -> subprocess.Popen[str]:
    """Start ``streamctl ARGS`` as a real process (for signal tests)."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.update(kwargs.pop("env", {}))
    return subprocess.Popen(
        [sys.executable, "-m", "streamctl.cli.main", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=kwargs.pop("cwd", ROOT),
        **kwargs,
    )


def streamctl_run(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``streamctl ARGS`` as a real process in ``cwd`` until it exits (at most
    ``timeout`` seconds); ``env`` is added to this process's environment."""
    return subprocess.run(
        [sys.executable, "-m", "streamctl.cli.main", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )
