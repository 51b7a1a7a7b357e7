"""Hostile pipeline files: refused with one positioned line, in bounded memory and time (#10).

Every case runs ``validate`` and ``run`` in a subprocess under RLIMIT_AS (1 GB) and
RLIMIT_CPU (20 s), so a regression fails the test instead of taking the machine.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from support import ROOT

from streamctl.cli.validate import PROBLEMS_FOUND

MEMORY_BYTES = 1024**3
CPU_SECONDS = 20
PIPE = "app: x\ntopics: {a: {}}\nagents:\n  f:\n    from: a\n    steps:\n      - filter: "


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))


def bounded(*args: object, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """``python -m streamctl.cli.main ARGS`` under the memory and CPU limits."""
    return subprocess.run(
        [sys.executable, "-m", "streamctl.cli.main", *map(str, args)],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        cwd=cwd,
        preexec_fn=_limit,
        timeout=120,
        check=False,
    )


def refused(path: Path, expected: str) -> None:
    """``validate`` and ``run`` both exit 2 with the one line ``expected`` (no traceback)."""
    checked = bounded("validate", path)
    assert (checked.returncode, checked.stderr) == (PROBLEMS_FOUND, expected + "\n")
    ran = bounded("run", path, "--until-idle", "-d", path.parent / "data")
    assert (ran.returncode, ran.stderr) == (2, f"error: {expected}\n")
    assert not (path.parent / "data").exists()


def test_a_billion_laughs_file_is_refused_at_the_alias_that_overflows(tmp_path: Path) -> None:
    lines = ["app: x", 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    text = "\n".join(lines) + "\n"
    assert len(text) < 600
    path = tmp_path / "bomb.yaml"
    path.write_text(text)
    # a..e expand to 10, 91, 820, 7,381 and 66,430 nodes (74,7xx with the keys): the
    # first *e inside f takes the document past 100,000
    line = lines.index(next(x for x in lines if x.startswith("f:"))) + 1
    column = lines[line - 1].index("*e") + 1
    refused(
        path,
        f"{path}:{line}:{column}: YAML expands to more than 100,000 nodes once aliases are "
        "resolved (an alias bomb?); write the data out or use fewer aliases",
    )


def test_yaml_nested_1000_deep_is_refused_at_the_65th_level(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("app: x\nx: " + "[" * 1000 + "]" * 1000 + "\n")
    # the document's mapping is level 1: the 64th bracket opens level 65
    refused(
        path,
        f"{path}:2:{len('x: ') + 64}: YAML nested deeper than 64 levels; flatten the structure",
    )


def test_a_pipeline_file_over_1_mib_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(PIPE + '"x in [' + ",".join(["1"] * 1_100_000) + ']"\n')
    refused(path, f"{path}:1:1: cannot read pipeline file: larger than 1,048,576 bytes")


@pytest.mark.parametrize(
    "models,make,reason",
    [
        ("/dev/zero", None, "outside the pipeline's folder '{dir}'"),
        ("../outside.yaml", "outside", "outside the pipeline's folder '{dir}'"),
        ("link.yaml", "symlink", "outside the pipeline's folder '{dir}'"),
        ("fifo.yaml", "fifo", "not a regular file"),
        ("big.yaml", "big", "larger than 1,048,576 bytes"),
        ("missing.yaml", None, "no such file"),
    ],
)
def test_model_file_references_stay_inside_the_pipeline_folder(
    tmp_path: Path, models: str, make: str | None, reason: str
) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    if make == "outside":
        (tmp_path / "outside.yaml").write_text("M: {fields: {a: int}}\n")
    elif make == "symlink":
        (folder / "link.yaml").symlink_to("/dev/zero")
    elif make == "fifo":
        os.mkfifo(folder / "fifo.yaml")
    elif make == "big":
        (folder / "big.yaml").write_text("# x\n" * 300_000)
    path = folder / "p.yaml"
    path.write_text(f"app: x\nmodels: {models}\n")
    refused(path, f"{path}:2:9: model file {models!r}: " + reason.format(dir=folder.resolve()))


LONG_LIST = '"x in [' + ",".join(["1"] * 250_000) + ']"'


@pytest.mark.parametrize(
    "expression,column,message",
    [
        (
            "\"'%999999999d' % 1 != ''\"",
            18,
            "'%' formatting of strings is not allowed; use str() and '+' in expression "
            "\"'%999999999d' % 1 != ''\"",
        ),
        (
            "\"'%9999999999d' % 1 != ''\"",
            18,
            "'%' formatting of strings is not allowed; use str() and '+' in expression "
            "\"'%9999999999d' % 1 != ''\"",
        ),
        (
            "\"'x' * 1000000000 != ''\"",
            18,
            "ValueError: '*' would build a sequence longer than 10,000 in expression "
            "\"'x' * 1000000000 != ''\"",
        ),
        (
            "\"'x' * 10000 + 'y' != ''\"",
            18,
            "ValueError: the result would be longer than 10,000 in expression "
            "\"'x' * 10000 + 'y' != ''\"",
        ),
        (
            '"' + "+".join(["x"] * 1000) + '"',
            18,
            "expression nested deeper than 50 levels; split it in expression '" + "x+" * 29 + "x…'",
        ),
        (
            '"' + "[" * 100 + "]" * 100 + '"',
            18 + 50,
            "expression nested deeper than 50 levels; split it in expression '" + "[" * 59 + "…'",
        ),
        (
            LONG_LIST,
            18,
            f"expression is {len(LONG_LIST) - 2:,} characters long; the most is 10,000 in "
            f"expression '{LONG_LIST[1:60]}…'",
        ),
    ],
)
def test_hostile_expressions_are_refused_with_their_position(
    tmp_path: Path, expression: str, column: int, message: str
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(PIPE + expression + "\n")
    refused(path, f"{path}:7:{column}: {message}")


def test_validate_never_imports_a_plugin(tmp_path: Path) -> None:
    (tmp_path / "evil.py").write_text(
        "import os, pathlib\n"
        "pathlib.Path(__file__).with_name('ran').write_text('plugin code ran')\n"
        "os._exit(0)\n\n"
        "async def agent(stream):\n    async for _ in stream:\n        pass\n"
    )
    path = tmp_path / "p.yaml"
    path.write_text("app: x\ntopics: {a: {}}\nagents:\n  f: {from: a, use: 'evil:agent'}\n")
    checked = bounded("validate", path)
    assert (checked.returncode, checked.stderr, checked.stdout) == (0, "", f"ok: {path}\n")
    assert not (tmp_path / "ran").exists()


@pytest.mark.parametrize(
    "source,use,message",
    [
        (
            "def agent(stream):\n    pass\n",
            "m:agent",
            "plugin 'm:agent' must be an async function taking a stream (async def f(stream))",
        ),
        (
            "async def agent():\n    pass\n",
            "m:agent",
            "plugin 'm:agent' must be an async function taking a stream (async def f(stream))",
        ),
        (
            "async def other(stream):\n    pass\n",
            "m:agent",
            "plugin module 'm' has no attribute 'agent'",
        ),
        (
            "async def agent(stream, other):\n    pass\n",
            "m:agent",
            "plugin 'm:agent' must be an async function taking a stream (async def f(stream))",
        ),
        ("", "nosuch:agent", "cannot import plugin module 'nosuch': no such module"),
    ],
)
def test_plugin_references_are_checked_statically_as_run_checks_them(
    tmp_path: Path, source: str, use: str, message: str
) -> None:
    (tmp_path / "m.py").write_text(source)
    path = tmp_path / "p.yaml"
    path.write_text(f"app: x\ntopics: {{a: {{}}}}\nagents:\n  f:\n    from: a\n    use: {use}\n")
    checked = bounded("validate", path)
    assert (checked.returncode, checked.stderr) == (PROBLEMS_FOUND, f"{path}:6:10: {message}\n")
    ran = bounded("run", path, "--until-idle", "-d", tmp_path / "data")
    assert (ran.returncode, ran.stderr) == (2, f"error: {path}:6:10: {message}\n"), message


def test_counts_are_bounded_before_anything_is_created(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "app: x\ntopics: {a: {partitions: 1000000000}}\nagents: {f: {from: a, use: forward}}\n"
    )
    refused(path, f"{path}:2:26: partitions must be at most 10,000, not 1,000,000,000")
    path.write_text("app: x\nsettings: {topic_partitions: 100000}\n")
    refused(path, f"{path}:2:30: setting topic_partitions must be at most 10,000, not 100,000")
    path.write_text(
        "app: x\ntopics: {a: {}}\nagents: {f: {from: a, use: forward, concurrency: 100000}}\n"
    )
    refused(path, f"{path}:3:50: concurrency must be at most 1,000, not 100,000")


def test_a_large_file_without_aliases_is_refused_at_the_node_past_the_bound(
    tmp_path: Path,
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("app: x\nx: [" + ",".join(["1"] * 120_000) + "]\n")
    # the root mapping, 'app', 'x', 'x' and the list are 5 nodes: item 99,996 is node 100,001
    column = len("x: [") + 2 * (99_996 - 1) + 1
    refused(path, f"{path}:2:{column}: YAML has more than 100,000 nodes; split the file")


def test_a_section_of_more_than_1000_entries_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "app: x\ntables:\n" + "".join(f"  t{i}: {{default: int}}\n" for i in range(1001))
    )
    refused(path, f"{path}:2:1: tables has 1,001 entries; the most is 1,000")


def test_a_pipeline_path_that_is_not_a_regular_file_is_refused_unread(tmp_path: Path) -> None:
    checked = bounded("validate", "/dev/zero")
    assert (checked.returncode, checked.stderr) == (
        PROBLEMS_FOUND,
        "/dev/zero:1:1: cannot read pipeline file: not a regular file\n",
    )
    os.mkfifo(tmp_path / "fifo.yaml")
    ran = bounded("run", tmp_path / "fifo.yaml", "-d", tmp_path / "data")
    assert (ran.returncode, ran.stderr) == (
        2,
        f"error: {tmp_path / 'fifo.yaml'}:1:1: cannot read pipeline file: not a regular file\n",
    )
