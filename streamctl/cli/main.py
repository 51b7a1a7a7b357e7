"""Entry point: ``streamctl``. A plain ``streamctl run`` starts without Typer's command tree.

Importing Typer, rich, pydantic (Typer's) and every command module costs a few tenths of
a second: ``streamctl run PIPELINE`` with the options below (and nothing else) goes
straight to :func:`streamctl.cli.runner.execute`, so the embedded broker's first event
comes quickly (#14). Anything else (``--help``, another option, a mistake) goes through
the Typer app of :mod:`streamctl.cli.commands`, which words every usage error.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

#: ``run``'s options the quick path understands: long and short names -> parameter
_VALUE_OPTIONS = {
    "--broker": "broker",
    "-b": "broker",
    "--datadir": "datadir",
    "-d": "datadir",
    "--log-level": "log_level",
    "--broker-setting": "broker_setting",
    "-S": "broker_setting",
    "--metrics-port": "metrics_port",
    "--log-format": "log_format",
    "--summary": "summary",
}
#: ``run``'s flags (options without a value) the quick path understands
_FLAGS = {"--until-idle": "until_idle"}


def __getattr__(name: str) -> Any:
    if name == "app":  # ``from streamctl.cli.main import app``: the Typer app
        from streamctl.cli.commands import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def quick_run_args(argv: list[str]) -> dict[str, Any] | None:
    """``run``'s parameters from ``argv`` (without the program name) when it is a plain
    ``run PIPELINE [options]`` the quick path takes; None for anything else.

    Options as Typer reads them: ``--broker URL`` or ``--broker=URL``, the short forms,
    ``--until-idle``, a repeated ``--broker-setting``, ``--metrics-port``, ``--log-format``
    and ``--summary`` (checked as Typer checks them), ``STREAMCTL_BROKER`` and
    ``STREAMCTL_DATADIR`` when the option is not given.
    """
    if not argv or argv[0] != "run":
        return None
    args: dict[str, Any] = {
        "pipeline": None,
        "broker": None,
        "datadir": None,
        "log_level": "info",
        "broker_setting": [],
        "until_idle": False,
        "metrics_port": None,
        "log_format": "text",
        "summary": None,
    }
    rest = argv[1:]
    i = 0
    while i < len(rest):
        arg = rest[i]
        i += 1
        if arg in _FLAGS:
            args[_FLAGS[arg]] = True
            continue
        if arg.startswith("-"):
            name, eq, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
            param = _VALUE_OPTIONS.get(name)
            if param is None:
                return None  # --help, an option of another helper, a typo: Typer says
            if not eq:
                if i >= len(rest) or rest[i].startswith("-"):
                    return None
                value = rest[i]
                i += 1
            if param == "broker_setting":
                args[param].append(value)
            else:
                args[param] = value
            continue
        if args["pipeline"] is not None:
            return None  # a second argument: Typer's usage error
        args["pipeline"] = arg
    if args["pipeline"] is None:
        return None
    from streamctl.cli.plain import log_level

    if log_level(args["log_level"]) is None or not _valid_observe_options(args):
        return None  # Typer words the usage error
    args["pipeline"] = Path(args["pipeline"])
    if args["broker"] is None:
        args["broker"] = os.environ.get("STREAMCTL_BROKER") or None
    datadir = args["datadir"] or os.environ.get("STREAMCTL_DATADIR") or None
    args["datadir"] = Path(datadir) if datadir else None
    return args


def _valid_observe_options(args: dict[str, Any]) -> bool:
    """Check (and convert) the #15 options as ``streamctl.cli.run`` does; False: leave the
    arguments to Typer, which words the usage error."""
    if args["log_format"] not in ("text", "json") or args["summary"] not in (None, "json"):
        return False
    port = args["metrics_port"]
    if port is None:
        return True
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        return False
    args["metrics_port"] = int(port)
    return True


def quick_run(args: dict[str, Any]) -> int:
    """Run the pipeline as ``streamctl run`` does; the exit code (errors as one line)."""
    from streamctl.cli.plain import configure_logging, error_line, json_error, json_lines, log_level
    from streamctl.exceptions import StreamctlError

    level = log_level(args["log_level"])
    assert level is not None
    configure_logging(level, args["log_format"])
    try:
        from streamctl.cli.runner import execute

        return execute(
            args["pipeline"],
            args["broker"],
            args["datadir"],
            until_idle=args["until_idle"],
            broker_setting=args["broker_setting"],
            metrics_port=args["metrics_port"],
            summary=args["summary"],
        )
    except StreamctlError as exc:
        error_line(exc)
        return exc.exit_code
    except KeyboardInterrupt:  # before the worker took over Ctrl-C: as Click says it
        if json_lines():
            json_error("aborted")
        else:
            sys.stderr.write("\nAborted!\n")
        return 1


def main() -> None:
    # an argument that is not UTF-8 (a key typed as $'\xff') reaches Python as text with
    # surrogates, which no codec can encode: refuse it here, once, for every command
    for n, arg in enumerate(sys.argv[1:], 1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            sys.stderr.write(
                f"error: argument {n} is not valid UTF-8 text; give keys and values as UTF-8\n"
            )
            raise SystemExit(2) from None
    quick = quick_run_args(sys.argv[1:])
    if quick is not None:
        raise SystemExit(quick_run(quick))
    from streamctl.cli.commands import app

    app()


if __name__ == "__main__":
    main()
