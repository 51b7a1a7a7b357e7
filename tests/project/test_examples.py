"""Every example's header commands, run as written, give the numbers its header states (#10).

A header is the leading comment block of a file in ``pipelines/``. In it, a line
``#   streamctl ...`` is a command (a trailing ``# comment`` is not part of it) and the
lines ``#   => TEXT`` after it state its standard output: ``=> N lines`` the number of
lines, anything else the exact output. The examples run one after the other in ONE data
dir, in two orders, from a copy of the repository's ``pipelines/`` and ``schemas/``:
each example has its own app id and topics, so none changes another's numbers.
"""

from __future__ import annotations

import glob
import re
import shlex
import shutil
from pathlib import Path

import pytest
from support import ROOT, cli

EXAMPLES = sorted((ROOT / "pipelines").glob("*.yaml"))


def header(path: Path) -> list[tuple[str, list[str]]]:
    """(command, expected output lines) for each command in ``path``'s header."""
    steps: list[tuple[str, list[str]]] = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        text = line[1:].strip()
        if text.startswith("streamctl "):
            steps.append((re.sub(r"\s+#.*$", "", text), []))
        elif text.startswith("=> ") and steps:
            steps[-1][1].append(text[3:])
    return steps


def run(command: str, expected: list[str], where: str) -> None:
    args: list[str] = []
    for word in shlex.split(command)[1:]:
        args += sorted(glob.glob(word)) if "*" in word else [word]
    result = cli(*args)
    assert result.exit_code == 0, f"{where}: {command}\n{result.output}"
    if not expected:
        return
    lines = result.stdout.splitlines()
    count = re.fullmatch(r"(\d+) lines?", expected[0])
    if count and len(expected) == 1:
        assert len(lines) == int(count.group(1)), f"{where}: {command}\n{result.stdout}"
    else:
        assert lines == expected, f"{where}: {command}"


def test_every_example_states_numbers_in_its_header() -> None:
    assert [p.name for p in EXAMPLES] == [
        "order_totals.yaml",
        "orders.yaml",
        "pageviews.yaml",
        "products.yaml",
        "quickstart.yaml",
        "revenue.yaml",
        "router.yaml",
        "wordcount.yaml",
    ]
    for path in EXAMPLES:
        steps = header(path)
        assert steps, f"{path.name} has no commands in its header"
        assert any(expected for _, expected in steps), f"{path.name} states no results"


@pytest.mark.parametrize("order", ["sorted", "reversed"])
def test_example_headers_give_their_numbers_in_one_data_dir_in_any_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, order: str
) -> None:
    shutil.copytree(ROOT / "pipelines", tmp_path / "pipelines")
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STREAMCTL_DATADIR", str(tmp_path / ".streamctl"))
    examples = EXAMPLES if order == "sorted" else EXAMPLES[::-1]
    for path in examples:
        for command, expected in header(path):
            run(command, expected, path.name)
    # schema export wrote what the repository holds
    for exported in sorted((tmp_path / "schemas").rglob("*.schema.json")):
        committed = ROOT / exported.relative_to(tmp_path)
        assert exported.read_text() == committed.read_text()
