"""Shell completion (#13): ``--show-completion`` prints a script, and the script's callback
completes command names and pipeline options."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

STREAMCTL = Path(sys.executable).with_name("streamctl")


def complete(words: str) -> list[str]:
    """What bash completion offers after ``words`` (the last word is being typed)."""
    env = dict(
        os.environ,
        _STREAMCTL_COMPLETE="complete_bash",
        COMP_WORDS=words,
        COMP_CWORD=str(len(words.split()) - 1),
    )
    done = subprocess.run([STREAMCTL], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_commands_and_options_complete() -> None:
    assert complete("streamctl val") == ["validate"]
    assert "--format" in complete("streamctl validate --f")
    assert "run" in complete("streamctl r")


def test_show_completion_prints_a_bash_script() -> None:
    # Typer detects the shell from the parent process (shellingham): run it from bash, as a
    # user does (``; exit $?`` keeps bash from exec-ing the command in its place)
    done = subprocess.run(
        ["bash", "-c", f'"{STREAMCTL}" --show-completion; exit $?'],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "_streamctl_completion()" in done.stdout
    assert "complete " in done.stdout
