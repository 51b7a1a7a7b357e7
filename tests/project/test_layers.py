"""The layer contracts in pyproject.toml hold, and a wrong import breaks them."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from support import ROOT

LINT_IMPORTS = shutil.which("lint-imports")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    assert LINT_IMPORTS, "import-linter is a test dependency (pip install -e '.[test]')"
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache", "--config", "pyproject.toml"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "streamctl", tmp_path / "streamctl")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_layers_hold(tree: Path) -> None:
    result = _lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "imported", "message"),
    [
        (
            "tables/naming.py",
            "streamctl.cli.main",
            "streamctl.tables is not allowed to import streamctl.cli",
        ),
        (
            "transport/partitioner.py",
            "streamctl.worker",
            "streamctl.transport is not allowed to import streamctl.worker",
        ),
        (
            "models/registry.py",
            "streamctl.tables",
            "streamctl.models is not allowed to import streamctl.tables",
        ),
        (
            "pipeline/errors.py",
            "streamctl.cli.main",
            "streamctl.pipeline is not allowed to import streamctl.cli",
        ),
        ("topics.py", "streamctl.app", "streamctl.topics is not allowed to import streamctl.app"),
    ],
)
def test_a_wrong_import_breaks_them(tree: Path, module: str, imported: str, message: str) -> None:
    with open(tree / "streamctl" / module, "a") as f:
        f.write(f"\nimport {imported}  # a layer violation planted by the test\n")
    result = _lint(tree)
    assert result.returncode != 0
    assert message in result.stdout
