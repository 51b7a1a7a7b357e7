"""scripts/: kafka.sh needs no Python client; the install scripts use a virtual environment (#10)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
from support import ROOT


def free_port_pair() -> int:
    """A port whose next port is free too (client and controller listeners)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two free ports in a row")


@pytest.mark.kafka
def test_kafka_sh_starts_and_probes_readiness_without_python(tmp_path: Path) -> None:
    """No python on PATH at all: the broker starts and is reported ready, not killed."""
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in (
        "bash",
        "java",
        "mvn",
        "cat",
        "grep",
        "tail",
        "wc",
        "head",
        "base64",
        "tr",
        "mkdir",
        "rm",
        "mv",
        "mktemp",
        "dirname",
        "nohup",
        "seq",
        "sleep",
        "touch",
        "kill",
        "printf",
        "env",
    ):
        found = shutil.which(tool)
        if found:
            (tools / tool).symlink_to(found)
    port = free_port_pair()
    env = {
        "PATH": str(tools),
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "STREAMCTL_KAFKA_PORT": str(port),
        "STREAMCTL_KAFKA_STATE": str(tmp_path / "state"),
        "STREAMCTL_KAFKA_START_TIMEOUT": "120",
    }
    script = ROOT / "scripts" / "kafka.sh"
    try:
        start = subprocess.run(
            [str(tools / "bash"), str(script), "start"],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert start.returncode == 0, start.stderr[-3000:]
        assert start.stdout.strip() == f"127.0.0.1:{port}"
        assert "ready after" in start.stderr
        status = subprocess.run(
            [str(tools / "bash"), str(script), "status"], env=env, capture_output=True, text=True
        )
        assert status.stdout.startswith("running pid=")
        # a real broker answers there (checked with the Python client, outside the script)
        from kafka import KafkaAdminClient

        admin = KafkaAdminClient(bootstrap_servers=f"127.0.0.1:{port}", request_timeout_ms=10000)
        assert admin.describe_cluster()["controller_id"] is not None
        admin.close()
    finally:
        subprocess.run(
            [str(tools / "bash"), str(script), "stop"], env=env, capture_output=True, timeout=90
        )


def test_install_scripts_create_a_venv_when_none_is_active(tmp_path: Path) -> None:
    """scripts/python-env.sh (sourced by quickstart.sh and test.sh) never picks a global
    interpreter: outside a virtual environment it makes .venv; inside one it uses it."""
    import sys

    for script in ("quickstart.sh", "test.sh"):
        text = (ROOT / "scripts" / script).read_text()
        assert ". scripts/python-env.sh" in text and '"$PY" -m pip install' in text
    helper = ROOT / "scripts" / "python-env.sh"
    base = getattr(sys, "_base_executable", sys.executable)
    show = f". {helper}; echo $PY"
    env = {"PATH": os.environ["PATH"], "PYTHON": base, "HOME": str(tmp_path)}
    made = subprocess.run(
        ["bash", "-c", show], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == str(tmp_path / ".venv" / "bin" / "python")
    assert "creating .venv" in made.stderr
    # inside a virtual environment (here: that .venv), it is used and nothing is created
    inside = {**env, "PYTHON": str(tmp_path / ".venv" / "bin" / "python")}
    other = tmp_path / "elsewhere"
    other.mkdir()
    used = subprocess.run(
        ["bash", "-c", show], cwd=other, env=inside, capture_output=True, text=True
    )
    assert used.stdout.strip() == str(tmp_path / ".venv" / "bin" / "python")
    assert not (other / ".venv").exists()
