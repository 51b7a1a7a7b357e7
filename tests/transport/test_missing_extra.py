"""A transport whose optional package is not installed: one line naming the extra to
install, from the library and from the CLI (it was a ModuleNotFoundError traceback)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from support import ROOT

#: runs the CLI as if confluent-kafka were not installed (an import of it fails)
WITHOUT_CONFLUENT = (
    "import sys; sys.modules['confluent_kafka'] = None; "
    "from streamctl.cli.main import main; sys.argv[0] = 'streamctl'; main()"
)


def run_without_confluent(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_CONFLUENT, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def test_validate_names_the_extra_to_install(tmp_path: Path) -> None:
    pipe = tmp_path / "p.yaml"
    pipe.write_text("app: x\ntopics:\n  t: {}\n")
    result = run_without_confluent("validate", str(pipe), "-b", "kafka+confluent://127.0.0.1:1")
    out = result.stdout + result.stderr
    assert result.returncode in (1, 2), out
    assert "Traceback" not in out
    assert "pip install 'streamctl[confluent]'" in out and "'confluent_kafka'" in out


def test_the_library_raises_bad_broker_url(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['confluent_kafka'] = None\n"
        "from streamctl.transport import open_transport\n"
        "from streamctl.transport.exceptions import BadBrokerURL\n"
        "try:\n"
        f"    open_transport('kafka+confluent://127.0.0.1:1', datadir={str(tmp_path)!r})\n"
        "except BadBrokerURL as exc:\n"
        "    print('refused:', exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("refused: broker scheme 'kafka+confluent' needs"), result.stdout
