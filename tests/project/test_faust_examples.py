"""Faust's examples, ported by changing only the import and the broker URL, run
unchanged end to end (#12): records go in with the app's own ``send`` command
(``app.main()``), its ``worker`` runs until idle, and what the agents print is
exactly what Faust's versions print (lines sorted where partitions interleave)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from support import streamctl_run

from streamctl.transport.partitioner import partition_for

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
    "windowed_aggregation": (
        [
            (
                "raw-event",
                [
                    # 10-second windows by the readings' own dates (epoch seconds)
                    '{"date": 1700000001, "value": 0.2}',
                    '{"date": 1700000004, "value": 0.4}',
                    '{"date": 1700000009, "value": 0.9}',
                    '{"date": 1700000012, "value": 1.0}',
                    '{"date": 1700000015, "value": 2.0}',
                    # moves stream time on, so the two windows before close (expires=1);
                    # its own window closes when --until-idle drains the input (#11)
                    '{"date": 1700000100, "value": 5.0}',
                ],
            )
        ],
        [
            "aggregate 22:13:20: count=3 mean=0.50",
            "aggregate 22:13:30: count=2 mean=1.50",
            "aggregate 22:15:00: count=1 mean=5.00",
            "window 22:13:20 closed: 3 events, mean 0.50",
            "window 22:13:30 closed: 2 events, mean 1.50",
            "window 22:15:00 closed: 1 events, mean 5.00",
        ],
    ),
    "events": (
        [("readings", ['{"sensor": "s1", "value": 20.5}'])],
        [f"s1 read in {datetime.now(timezone.utc).year}: 20.5", "stamped s1 at offset 0"],
    ),
}


#: the most one command of an example may take: far above its usual second or two, for
#: a machine shared by many test runs (each command is waited for until it exits)
BOUND = 300
pytestmark = pytest.mark.timeout(4 * BOUND)


def app_cli(example: str, args: list[str], tmp_path: Path, stdin: str = "") -> str:
    """Run ``python EXAMPLE.py ARGS`` until it exits (at most BOUND seconds); its stdout.
    On failure or when it outlasts the bound, the test fails with what it printed and
    logged so far (the worker logs at info: where it was)."""
    env = {**os.environ, "STREAMCTL_DATADIR": str(tmp_path / "data")}
    command = [sys.executable, str(EXAMPLES / f"{example}.py"), *args]
    if args[:1] == ["worker"]:
        command += ["-l", "info"]  # diagnostics on stderr; stdout is what the agents print
    try:
        done = subprocess.run(
            command,
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=BOUND,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(
            f"{' '.join(args)} did not exit within {BOUND}s\nstdout: {exc.stdout!r}\n"
            f"stderr: {exc.stderr!r}"
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
        printed += app_cli(example, ["worker", "--until-idle"], tmp_path).splitlines()
    assert sorted(printed) == expected


def test_page_views_regroups_by_the_raw_page_id_as_faust_does(tmp_path: Path) -> None:
    # Faust's group_by topic takes the source's raw key serializer: the key is the
    # page id's bytes (not JSON), so it lands in the partition Kafka's partitioner gives it
    views = ['{"id": "home", "user": "ann"}', '{"id": "about", "user": "bob"}']
    app_cli("page_views", ["send", "page_views", "-"], tmp_path, "\n".join(views) + "\n")
    app_cli("page_views", ["worker", "--until-idle"], tmp_path)
    tail = streamctl_run(
        *("topic", "tail", "-n", "10", "faust-page-views-page_views-PageView.id-repartition"),
        cwd=tmp_path,
        env={"STREAMCTL_DATADIR": str(tmp_path / "data")},
        timeout=BOUND,
    )
    assert tail.returncode == 0, tail.stderr
    records = [json.loads(line) for line in tail.stdout.splitlines()]
    assert sorted(r["key"] for r in records) == ["about", "home"]
    for r in records:
        assert r["partition"] == partition_for(r["key"].encode(), 4)


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
            str(EXAMPLES / "test_testing_guide_windows.py"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=BOUND,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 passed" in done.stdout


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
        timeout=BOUND,
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
        timeout=BOUND,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["b: 2"]
    listed = app_cli("word_count", ["tables"], tmp_path)
    assert "word_counts" in listed and "Keep count of words" in listed


def test_a_module_that_is_not_there_is_one_line_exit_2(tmp_path: Path) -> None:
    done = streamctl_run("worker", "-A", "no_such_mod:app", cwd=tmp_path)
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
            ["worker", "-A", "word_count:"],
            "word_count:: the app must be given as module or module:attribute (both parts "
            "Python names), as in 'streamctl worker -A word_count' or '-A word_count:app'",
        ),
        (
            ["run", ":app"],
            ":app: the app must be given as module or module:attribute (both parts Python "
            "names), as in 'streamctl worker -A MODULE' or '-A MODULE:app'",
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
    env = {"STREAMCTL_DATADIR": str(tmp_path / "data"), "PYTHONWARNINGS": "ignore"}
    done = streamctl_run(*command, cwd=EXAMPLES, env=env)
    assert (done.returncode, done.stderr.strip().splitlines()) == (2, [f"error: {line}"])
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(("value", "found"), [("1", "an int"), ("'s'", "a str")])
def test_an_error_line_quoting_colon_words_prints_them_as_written(
    value: str, found: str, tmp_path: Path
) -> None:
    # rich's emoji codes: "notapp:x:" once printed as "notapp\u274c" (review-12b); the
    # article follows the type's name ("an int", not "a int")
    (tmp_path / "notapp.py").write_text(f"x = {value}\n")
    done = streamctl_run("worker", "-A", "notapp:x", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: notapp:x: notapp.x is {found}, where a streamctl App was expected; it "
        "defines no streamctl App (an App(...) at module level)"
    ]


def test_an_on_window_close_callback_that_raises_stops_the_worker_in_one_line(
    tmp_path: Path,
) -> None:
    broken = tmp_path / "broken_windows.py"
    source = (EXAMPLES / "windowed_aggregation.py").read_text()
    broken.write_text(source.replace("mean = sum(values) / count", "mean = sum(values) / 0"))
    env = {**os.environ, "STREAMCTL_DATADIR": str(tmp_path / "data")}
    lines = '{"date": 1700000001, "value": 0.2}\n{"date": 1700000100, "value": 5.0}\n'
    run = [sys.executable, "-W", "ignore", str(broken)]
    sent = subprocess.run(
        [*run, "send", "raw-event", "-"], input=lines, text=True, env=env, timeout=BOUND
    )
    assert sent.returncode == 0
    for _ in range(2):  # the close is not committed: a restart runs it again
        done = subprocess.run(
            [*run, "worker", "--until-idle", "-l", "warning"],
            capture_output=True,
            text=True,
            env=env,
            timeout=BOUND,
        )
        assert (done.returncode, done.stderr.strip().splitlines()) == (
            1,
            [
                "error: table 'tumbling_table': on_window_close failed for key 'events', "
                "window from 2023-11-14T22:13:20Z: ZeroDivisionError: float division by zero "
                "(--log-level debug shows the traceback)"
            ],
        )


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


def test_send_to_an_agent_that_is_not_there_names_the_agents_exit_2(tmp_path: Path) -> None:
    # it once fell through to "topic '@nope' does not exist; ... pass --partitions N" (review-12b)
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "order_system.py"), "send", "@nope", "1"],
        capture_output=True,
        text=True,
        env={**os.environ, "STREAMCTL_DATADIR": str(tmp_path / "data")},
        timeout=60,
    )
    assert (done.returncode, done.stderr.strip().splitlines()[-1:]) == (
        2,
        ["error: no agent 'nope' (agents: @register_product, @reserve, @ship)"],
    )
    assert not (tmp_path / "data").exists()


def test_worker_dash_a_names_a_package_folder_in_the_working_directory(tmp_path: Path) -> None:
    # 'faust -A proj worker' next to proj/__init__.py; it once read proj as a pipeline file:
    # "proj:1:1: cannot read pipeline file: not a regular file" (review-12b)
    package = tmp_path / "proj"
    package.mkdir()
    (package / "__init__.py").write_text("from .app import app\n")
    (package / "app.py").write_text(
        "import streamctl as faust\n"
        "app = faust.App('proj-pkg', broker='local://')\n"
        "topic = app.topic('proj-pkg-in', value_type=str)\n"
        "@app.agent(topic)\n"
        "async def echo(stream):\n"
        "    async for value in stream:\n"
        "        print('got', value, flush=True)\n"
    )
    env = {"STREAMCTL_DATADIR": str(tmp_path / "data")}
    sent = streamctl_run("send", "proj-pkg-in", '"hi"', "-p", "proj", cwd=tmp_path, env=env)
    assert sent.returncode == 0, sent.stderr
    done = streamctl_run("worker", "-A", "proj", "--until-idle", cwd=tmp_path, env=env)
    assert (done.returncode, done.stdout.splitlines()) == (0, ["got hi"]), done.stderr
