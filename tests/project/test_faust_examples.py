"""Faust's examples, ported by changing only the import and the broker URL, run
unchanged end to end (#12): records go in with the app's own ``send`` command
(``app.main()``), its ``worker`` runs until idle, and what the agents print is
exactly what Faust's versions print (lines sorted where partitions interleave)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "faust"

CASES = {
    "word_count": (
        [("posts", ['"the cat sat"', '"the cat ran"'])],
        ["cat: 1", "cat: 2", "ran: 1", "sat: 1", "the: 1", "the: 2"],
    ),
    "page_views": (
        [
            (
                "page_views",
                [
                    '{"id": "home", "user": "ann"}',
                    '{"id": "about", "user": "bob"}',
                    '{"id": "home", "user": "cy"}',
                ],
            )
        ],
        [
            "about viewed 1 time(s)",
            "home viewed 1 time(s)",
            "home viewed 2 time(s)",
        ],
    ),
    "withdrawals": (
        [
            (
                "withdrawals",
                [
                    '{"user": "ann", "country": "NO", "amount": 10.0}',
                    '{"user": "bob", "country": "SE", "amount": 150.0}',
                    '{"user": "ann", "country": "NO", "amount": 200.5}',
                ],
            )
        ],
        [
            "country NO: 1 large",
            "country SE: 1 large",
            "user ann has withdrawn 10.00",
            "user ann has withdrawn 210.50",
            "user bob has withdrawn 150.00",
        ],
    ),
    "table_of_sets": (
        [
            (
                "logins",
                [
                    '{"user": "ann", "account": "a1"}',
                    '{"user": "ann", "account": "a2"}',
                    '{"user": "ann", "account": "a1"}',
                    '{"user": "bob", "account": "b1"}',
                ],
            )
        ],
        ["ann: a1", "ann: a1, a2", "ann: a1, a2", "bob: b1"],
    ),
    "agent_sinks": (
        [("@add", ['{"a": 2, "b": 3}', '{"a": 10, "b": -1}'])],
        [
            "agent sink got 5",
            "agent sink got 9",
            "callable sink got 5",
            "callable sink got 9",
            "topic sink got 5",
            "topic sink got 9",
        ],
    ),
    "order_system": (
        [
            ("products", ['{"id": 1, "name": "lamp", "stock": 3}']),
            (
                "orders",
                [
                    '{"id": "o-1", "product_id": 1, "quantity": 2}',
                    '{"id": "o-2", "product_id": 1, "quantity": 2}',
                ],
            ),
        ],
        ["out of stock for o-2: lamp", "shipping o-1: lamp"],
    ),
    "events": (
        [("readings", ['{"sensor": "s1", "value": 20.5}'])],
        [f"s1 read in {datetime.now(timezone.utc).year}: 20.5", "stamped s1 at offset 0"],
    ),
}


def app_cli(example: str, args: list[str], tmp_path: Path, stdin: str = "") -> str:
    env = {**os.environ, "STREAMCTL_DATADIR": str(tmp_path / "data")}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{example}.py"), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("example", sorted(CASES))
def test_a_ported_example_runs_unchanged(example: str, tmp_path: Path) -> None:
    # one worker run per input topic: records of two topics have no order between
    # them (in Faust neither), and the order system needs its products first
    inputs, expected = CASES[example]
    printed: list[str] = []
    for topic, values in inputs:
        sent = app_cli(example, ["send", topic, "-"], tmp_path, "\n".join(values) + "\n")
        assert f"sent {len(values)} record(s)" in sent
        printed += app_cli(
            example, ["worker", "--until-idle", "-l", "warning"], tmp_path
        ).splitlines()
    assert sorted(printed) == expected


def test_the_testing_guide_port_passes(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(EXAMPLES / "test_testing_guide.py"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout


def test_streamctl_worker_dash_a_and_run_module_app_run_a_python_app(tmp_path: Path) -> None:
    env = {**os.environ, "STREAMCTL_DATADIR": str(tmp_path / "data")}
    app_cli("word_count", ["send", "posts", "-"], tmp_path, '"a b a"\n')
    streamctl = [sys.executable, "-m", "streamctl.cli.main"]
    done = subprocess.run(
        [*streamctl, "worker", "-A", "word_count:app", "--until-idle", "-l", "info"],
        capture_output=True,
        text=True,
        env=env,
        cwd=EXAMPLES,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(done.stdout.splitlines()) == ["a: 1", "a: 2", "b: 1"]
    assert "running word_count:app: app faust-word-count" in done.stderr
    app_cli("word_count", ["send", "posts", "-"], tmp_path, '"b"\n')
    done = subprocess.run(
        [*streamctl, "run", "word_count", "--until-idle"],
        capture_output=True,
        text=True,
        env=env,
        cwd=EXAMPLES,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["b: 2"]
    listed = app_cli("word_count", ["tables"], tmp_path)
    assert "word_counts" in listed and "Keep count of words" in listed


def test_a_module_that_is_not_there_is_one_line_exit_2(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "streamctl.cli.main", "worker", "-A", "no_such_mod:app"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: no_such_mod:app: cannot import module 'no_such_mod' (run from the directory "
        "that holds it, or install its package)"
    ]


@pytest.mark.parametrize(
    ("command", "line"),
    [
        (
            ["worker", "-A", "word_count.py"],
            "word_count.py is a file path, not a module: name the module instead, word_count "
            "(its 'app') or word_count:app, as in 'streamctl worker -A word_count', run from "
            "this directory",
        ),
        (
            ["run", str(EXAMPLES / "word_count.py")],
            f"{EXAMPLES / 'word_count.py'} is a file path, not a module: name the module "
            "instead, word_count (its 'app') or word_count:app, as in 'streamctl worker -A "
            "word_count', run from the directory that holds word_count.py",
        ),
        (
            ["worker", "-A", "word_count:ap"],
            "word_count:ap: module 'word_count' has no attribute 'ap', where a streamctl App "
            "was expected; its Apps: word_count:app",
        ),
        (
            ["worker", "-A", "word_count:posts_topic"],
            "word_count:posts_topic: word_count.posts_topic is a Topic, where a streamctl App "
            "was expected; its Apps: word_count:app",
        ),
        (
            ["worker", "-A", "conftest"],
            "conftest: module 'conftest' has no attribute 'app', where a streamctl App was "
            "expected; it defines no streamctl App (an App(...) at module level)",
        ),
    ],
)
def test_a_target_that_is_not_an_app_says_what_was_found_and_what_to_give(
    command: list[str], line: str, tmp_path: Path
) -> None:
    env = {**os.environ, "STREAMCTL_DATADIR": str(tmp_path / "data")}
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-m", "streamctl.cli.main", *command],
        capture_output=True,
        text=True,
        env=env,
        cwd=EXAMPLES,
        timeout=60,
    )
    assert (done.returncode, done.stderr.strip().splitlines()) == (2, [f"error: {line}"])
    assert not (tmp_path / "data").exists()


def test_app_main_lists_its_commands_agents_and_models(tmp_path: Path) -> None:
    usage = app_cli("order_system", [], tmp_path)
    for command in ("worker", "send", "tables", "agents", "models", "model NAME"):
        assert f"\n  {command}" in usage
    agents = app_cli("order_system", ["agents"], tmp_path).splitlines()
    assert [line.split()[:2] for line in agents[2:]] == [
        ["register_product", "products"],
        ["reserve", "orders"],
        ["ship", "reservations"],
    ]
    fields = app_cli("order_system", ["model", "Reservation"], tmp_path).splitlines()
    assert [line.split() for line in fields[2:]] == [
        ["order_id", "str"],
        ["product", "Product"],
        ["accepted", "bool"],
    ]
