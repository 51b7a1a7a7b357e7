"""``streamctl validate``: check pipeline files as ``run`` would, without running anything."""

from __future__ import annotations

import glob
import json
from enum import Enum
from pathlib import Path

import typer

from streamctl.cli.common import BrokerOpt, BrokerSettingOpt, err, out, parse_broker_settings
from streamctl.exceptions import ConfigurationError
from streamctl.pipeline import check_pipeline
from streamctl.pipeline.errors import Problem

#: exit code when a checked file has an error (2 stays for usage errors, as everywhere)
PROBLEMS_FOUND = 1


class ReportFormat(str, Enum):
    """How ``validate`` reports problems."""

    text = "text"
    json = "json"
    github = "github"


def validate(
    pipelines: list[str] = typer.Argument(
        ...,
        help="Pipeline files, folders (their *.yaml and *.yml files) or globs to check.",
        show_default=False,
        metavar="PATH...",
    ),
    broker: str = BrokerOpt,
    broker_setting: list[str] = BrokerSettingOpt,
    format: ReportFormat = typer.Option(
        ReportFormat.text,
        "--format",
        "-f",
        help="text: file:line:column lines on stderr; json: one JSON document on stdout; "
        "github: GitHub Actions ::error/::warning annotations on stdout.",
        metavar="text|json|github",
    ),
) -> None:
    """Check pipeline files and report every problem, sorted, as file:line:column.

    Reports at once everything `run` (with the same --broker and -S) would refuse:
    YAML, structure, names (with "did you mean"), settings, broker and broker
    settings, models, tables, steps and expressions, plugin references. Plugin
    modules are looked at, never imported: nothing is run or written. Warnings
    (a constraint on a model without validation: true) do not fail the check.

    Exit 0 when no file has an error, 1 when any has one, 2 on a usage error
    (a bad --broker or -S, a folder or glob with no pipeline file).

    Example: streamctl validate pipelines/ --format github
    """
    extra = parse_broker_settings(broker_setting)
    failed = usage = False
    report: list[dict[str, object]] = []
    for path in expand_paths(pipelines):
        problems = check_pipeline(path, broker=broker, broker_settings=extra)
        ok = not any(not p.warning for p in problems)
        failed = failed or not ok
        # line 0: the problem is in a command-line option (-b, -S), a usage error
        usage = usage or any(p.line == 0 and not p.warning for p in problems)
        if format is ReportFormat.json:
            report.append(
                {"file": str(path), "ok": ok, "problems": [_as_dict(p) for p in problems]}
            )
        elif format is ReportFormat.github:
            for problem in problems:
                out.print(_annotation(problem), markup=False)
        else:
            for problem in problems:
                err.print(str(problem), markup=False)
            if ok:
                out.print(f"ok: {path}", markup=False)
    if format is ReportFormat.json:
        out.print(json.dumps({"ok": not failed, "files": report}), markup=False)
    if failed:
        raise typer.Exit(2 if usage else PROBLEMS_FOUND)


def _as_dict(problem: Problem) -> dict[str, object]:
    return {
        "file": problem.file,
        "line": problem.line,
        "column": problem.column,
        "severity": "warning" if problem.warning else "error",
        "message": problem.message,
    }


def _annotation(problem: Problem) -> str:
    """``::error file=F,line=L,col=C::message``, escaped as GitHub's workflow commands need."""
    kind = "warning" if problem.warning else "error"
    where = f"file={_escape(problem.file, True)}"
    if problem.line:
        where += f",line={problem.line},col={problem.column}"
    return f"::{kind} {where}::{_escape(problem.message, False)}"


def _escape(text: str, prop: bool) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def expand_paths(args: list[str], *, tests: bool = False) -> list[Path]:
    """``args`` with each glob expanded and each folder replaced by its ``*.yaml`` and
    ``*.yml`` files, sorted; ``NAME_test.yaml`` files (pipeline tests, see ``streamctl
    test``) only with ``tests``, or when named outright. Raises ConfigurationError (exit 2)
    on a glob or folder that names no pipeline file."""
    from streamctl.pipeline.testfiles import is_test_file

    paths: list[Path] = []
    for arg in args:
        if glob.has_magic(arg):
            matched = sorted(glob.glob(arg, recursive=True))
            matched = [m for m in matched if tests or not is_test_file(Path(m))]
            if not matched:
                raise ConfigurationError(f"{arg}: no file matches this pattern")
            paths += [Path(m) for m in matched]
        else:
            paths.append(Path(arg))
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            here = sorted(
                p
                for p in path.iterdir()
                if p.suffix in (".yaml", ".yml") and p.is_file() and (tests or not is_test_file(p))
            )
            if not here:
                # a CI check that passes with nothing checked is worse than one that fails
                raise ConfigurationError(f"{path}: no pipeline files (*.yaml, *.yml) here")
            found += here
        else:
            found.append(path)
    return found
