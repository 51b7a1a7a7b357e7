"""The corpus of broken pipeline files (#13): one mistake each, across every step kind and
expression feature, each declaring in its first line (``# expect: LINE:COLUMN: message``)
where ``streamctl validate`` must place it and what it must say."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support import cli

from streamctl.cli.validate import PROBLEMS_FOUND
from streamctl.pipeline.steps import BUILTIN_STEPS

CORPUS = Path(__file__).parent / "corpus"
FILES = sorted(CORPUS.glob("*.yaml"))
EXPECT = re.compile(r"^# expect: (\d+):(\d+): (.+)$")


def _expected(path: Path) -> tuple[int, int, str]:
    first = path.read_text().splitlines()[0]
    match = EXPECT.match(first)
    assert match, f"{path.name}: the first line must be '# expect: LINE:COLUMN: message'"
    return int(match[1]), int(match[2]), match[3]


def test_the_corpus_covers_every_builtin_step_kind() -> None:
    assert len(FILES) >= 40
    text = "\n".join(p.read_text() for p in FILES)
    missing = [k for k in BUILTIN_STEPS if not re.search(rf"- {{?{k}:", text)]
    assert missing == []


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_a_broken_file_gives_its_position_and_message(path: Path, tmp_path: Path) -> None:
    line, column, fragment = _expected(path)
    result = cli("validate", path)
    assert "Traceback" not in result.output
    assert result.exit_code == PROBLEMS_FOUND, result.output
    problems = result.stderr.splitlines()
    assert len(problems) == 1, problems  # one mistake: one problem
    where = f"{path}:{line}:{column}: "
    assert problems[0].startswith(where), (problems[0], where)
    assert fragment in problems[0][len(where) :], (problems[0], fragment)
    # run refuses it as bad input: exit 2, the same line, and nothing created
    data = tmp_path / "data"
    run = cli("run", path, "-d", data, "--until-idle")
    assert (run.exit_code, run.stderr) == (2, f"error: {problems[0]}\n")
    assert not data.exists()
