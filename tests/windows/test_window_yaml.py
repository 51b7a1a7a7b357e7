"""``window:`` and ``emit:`` in pipeline files: durations, and validate's positioned errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from support import cli

from streamctl import HoppingWindow, SessionWindow, SlidingWindow, TumblingWindow
from streamctl.cli.validate import PROBLEMS_FOUND
from streamctl.pipeline import load_pipeline
from streamctl.pipeline.windowspec import parse_duration

HEAD = """\
app: yw
topics:
  views: {partitions: 1}
  out: {partitions: 1}
tables:
"""


def write(tmp_path, tables: str):
    path = tmp_path / "p.yaml"
    path.write_text(HEAD + textwrap.indent(textwrap.dedent(tables), "  "))
    return path


@pytest.mark.parametrize(
    "text, seconds",
    [
        (90, 90.0),
        (1.5, 1.5),
        ("90s", 90.0),
        ("1m", 60.0),
        ("1h30m", 5400.0),
        ("1d", 86400.0),
        ("250ms", 0.25),
        ("2h 5s", 7205.0),
    ],
)
def test_durations(text, seconds) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["1x", "m", "", "1m30", -1, True, None])
def test_bad_durations(bad) -> None:
    with pytest.raises(ValueError, match="not a duration|must be >= 0"):
        parse_duration(bad)


def test_each_window_kind_builds_its_window(tmp_path) -> None:
    path = write(
        tmp_path,
        """
        t: {default: int, window: {tumbling: 1m, expires: 1h, grace: 10s}}
        h: {default: int, window: {hopping: {size: 10m, step: 1m}}}
        s: {default: int, window: {sliding: {before: 5m, after: 0s}, expires: 1d}}
        e: {default: int, window: {tumbling: 30, time: at, late: dead_letter}, emit: {on: update, to: out}}
        u: {default: int, window: {session: {gap: 30m}, grace: 1m, expires: 1d}}
        """,
    )
    app = load_pipeline(path).app
    assert app.tables["t"].window == TumblingWindow(60, 3600, grace=10)
    assert app.tables["h"].window == HoppingWindow(600, 60)
    assert app.tables["s"].window == SlidingWindow(300, 0, 86400)
    assert app.tables["u"].window == SessionWindow(1800, 86400, grace=60)
    e = app.tables["e"]
    assert e._on_late == "dead_letter" and e._emitter.on == "update"
    assert e._emitter.topic.name == "out"


@pytest.mark.parametrize(
    "tables, message",
    [
        ("t: {default: int, window: {tumbling: 1x}}", "'1x' is not a duration"),
        ("t: {default: int, window: {hopping: {size: 1m}}}", "hopping window needs step"),
        (
            "t: {default: int, window: {tumbling: 1m, hopping: {size: 1m, step: 1s}}}",
            "table 't': window needs exactly one of tumbling, hopping, sliding or session, not "
            "tumbling and hopping",
        ),
        ("t: {default: int, window: {tumbling: 0}}", "table 't': window size and step"),
        ("t: {default: int, window: {hopping: {size: 1m, step: 2m}}}", "must not exceed its size"),
        ("t: {default: int, window: {sliding: {before: 1m, after: 0}}}", "needs expires"),
        ("t: {default: int, window: {session: {gap: 0}}}", "session gap must be at least 1 ms"),
        ("t: {default: int, window: {session: {gap: 1m, size: 1}}}", "unknown key 'size'"),
        ("t: {default: int, window: {session: 30m}}", "session window must be a mapping"),
        (
            "t: {default: int, window: {tumbling: 1m, late: keep}}",
            "late must be drop or dead_letter",
        ),
        ("t: {default: int, window: {tumbling: 1m, tumbing: 1}}", "did you mean 'tumbling'?"),
        ("t: {kind: set, window: {tumbling: 1m}}", "only kind: table can be windowed"),
        ("t: {default: int, emit: {on: close, to: out}}", "emit needs a window"),
        (
            "t: {default: int, window: {tumbling: 1m}, emit: {on: later, to: out}}",
            "emit on must be close or update, not 'later'",
        ),
        ("t: {default: int, window: {tumbling: 1m}, emit: {on: close}}", "emit needs to: TOPIC"),
        (
            "t: {default: int, window: {tumbling: 1m}, emit: {on: close, to: outs}}",
            "table 't' emits to undeclared topic 'outs' (did you mean 'out'?)",
        ),
        # hostile input: no window, non-finite and huge durations, millions of windows
        ("t: {default: int, window: {}, emit: {on: close, to: out}}", "window is empty"),
        ("t: {default: int, window: {tumbling: .inf}}", "at most 100 years"),
        ("t: {default: int, window: {tumbling: .nan}}", "at most 100 years"),
        ("t: {default: int, window: {tumbling: 99999999999999999999d}}", "at most 100 years"),
        (
            "t: {default: int, window: {hopping: {size: 1d, step: 1ms}}}",
            "puts each event in 86,400,000 windows; the most is 10,000",
        ),
    ],
)
def test_validate_reports_window_mistakes_with_positions(tmp_path, tables, message) -> None:
    path = write(tmp_path, tables)
    result = cli("validate", path)
    assert result.exit_code == PROBLEMS_FOUND, result.output
    assert message in result.stderr, result.stderr
    assert f"{path}:6:" in result.stderr  # the table's line
    assert "on_late" not in result.stderr  # each mistake once, in the file's words


@pytest.mark.parametrize(
    "make",
    [
        lambda: TumblingWindow(float("inf")),
        lambda: TumblingWindow(float("nan")),
        lambda: TumblingWindow(60, expires=1e300),
        lambda: HoppingWindow(86400, 0.001),
        lambda: SlidingWindow(float("inf"), 0, 60),
    ],
)
def test_the_library_refuses_non_finite_huge_and_explosive_windows(make) -> None:
    from streamctl.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError):
        make()


def test_a_bad_duration_points_at_its_column(tmp_path) -> None:
    path = write(tmp_path, "t: {default: int, window: {tumbling: 1m, grace: soon}}")
    column = path.read_text().splitlines()[5].index("soon") + 1
    result = cli("validate", path)
    assert result.stderr.startswith(f"{path}:6:{column}: 'soon' is not a duration")


def test_emit_to_an_undeclared_topic_points_at_it_and_does_not_run(tmp_path) -> None:
    path = write(
        tmp_path,
        """
        t:
          default: int
          window: {tumbling: 1m}
          emit: {on: close, to: nowhere}
        """,
    )
    lines = path.read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if "nowhere" in text)
    column = lines[line - 1].index("nowhere") + 1
    for command, code in ((("validate", path), PROBLEMS_FOUND), (("run", path, "--until-idle"), 2)):
        result = cli(*command)
        assert result.exit_code == code, result.output
        assert f"{path}:{line}:{column}: table 't' emits to undeclared topic 'nowhere'" in (
            result.stderr
        ), result.stderr


@pytest.mark.parametrize("text", ["1m1m", "30m1h", "1h1h30m", "1m 1m", "m", "1.m", "-1m"])
def test_a_duration_is_a_number_and_a_unit_or_units_largest_first_once(tmp_path, text) -> None:
    """``1m1m`` was read as 120 s; a repeated or out-of-order unit is a typo, refused."""
    path = write(tmp_path, f"t: {{default: int, window: {{tumbling: {text}}}}}")
    column = path.read_text().splitlines()[5].rindex(text) + 1
    result = cli("validate", path)
    assert result.exit_code == PROBLEMS_FOUND, result.output
    assert result.stderr.startswith(f"{path}:6:{column}: {text!r} is not a duration"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "text, seconds", [("1h30m", 5400), ("1d2h3m4s5ms", 93784.005), ("90s", 90), ("1w", 604800)]
)
def test_documented_durations_still_load(tmp_path, text, seconds) -> None:
    path = write(tmp_path, f"t: {{default: int, window: {{tumbling: {text}}}}}")
    assert load_pipeline(path).app.tables["t"].window == TumblingWindow(seconds)


def test_dedupe_within_shares_the_duration_rules(tmp_path) -> None:
    from streamctl.pipeline.expressions import duration

    assert duration("1h30m") == 5400
    with pytest.raises(ValueError, match="is not a duration"):
        duration("10m10m")


def test_session_given_as_text_is_reported_once(tmp_path) -> None:
    path = write(tmp_path, "t: {default: int, window: {session: 30m}}")
    result = cli("validate", path)
    assert result.exit_code == PROBLEMS_FOUND, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "session window must be a mapping" in lines[0], result.stderr
    assert "needs gap" not in result.stderr


def test_late_is_a_window_key_as_the_readme_says(tmp_path) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert "window: {tumbling: 1m, late: dead_letter}" in readme
    ok = write(tmp_path, "t: {default: int, window: {tumbling: 1m, late: dead_letter}}")
    assert load_pipeline(ok).app.tables["t"]._on_late == "dead_letter"
    bad = write(tmp_path, "t: {default: int, late: dead_letter, window: {tumbling: 1m}}")
    result = cli("validate", bad)
    assert result.exit_code == PROBLEMS_FOUND, result.output
    assert f"{bad}:6:" in result.stderr, result.stderr
    assert "late is a key of window:" in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
