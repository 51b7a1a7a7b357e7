"""Shared CLI plumbing: error handling, broker/datadir options, consoles."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from streamctl.cli.plain import (
    asks_json_lines,
    check_cli_broker,
    configure_logging,
    console,
    error_line,
    json_error,
    json_lines,
    load_for_cli,
    log_level,
    parse_broker_settings,
    redact_secrets,
    use_json_lines,
)
from streamctl.exceptions import StreamctlError
from streamctl.redact import Redact

__all__ = [
    "Redact",
    "BrokerOpt",
    "BrokerSettingOpt",
    "DatadirOpt",
    "Group",
    "PipelineOpt",
    "check_cli_broker",
    "check_partitions",
    "err",
    "load_for_cli",
    "out",
    "parse_broker_settings",
    "readable_metavars",
    "redact_secrets",
    "resolve_target",
    "setup_logging",
]

#: Click's base of usage errors, as the installed Typer has it (its own copy of Click
#: since Typer 0.24, Click's before)
ClickException: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"
)

out = console(stderr=False)
err = console(stderr=True)


#: readable metavars of options by their Python type (Typer would show ``<path>``, ``<int>``)
_OPTION_METAVARS = {"Path": "PATH", "int": "N", "float": "SECONDS", "str": "TEXT"}


class _ReadableArgument(typer.core.TyperArgument):
    """An argument shown by its metavar alone: no ``<list[Path]>`` type label, and
    ``PIPELINE...`` (not ``{PIPELINE...}...``) in the usage line."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None

    def _usage_display_name(self) -> str:
        name = self.metavar or (self.name or "").upper()
        return name if self.required else f"[{name}]"


def readable_metavars(command: Any) -> Any:
    """Give ``command``'s parameters readable metavars: ``PIPELINE...``, not ``<list[Path]>``.

    Arguments show their name in capitals (a list argument its singular with ``...``) or
    their explicit metavar, never a type label; options without an explicit metavar show
    their value's kind (``PATH``, ``N``, ``TEXT``).
    """
    for param in getattr(command, "params", []):
        if getattr(param, "_readable", False):
            continue
        param._readable = True
        if isinstance(param, typer.core.TyperArgument):
            if param.metavar is None:
                name = (param.name or "value").upper()
                if param.nargs != 1 and name.endswith("S"):
                    name = name[:-1]
                param.metavar = name + ("..." if param.nargs != 1 else "")
            param.__class__ = _ReadableArgument
        elif (
            isinstance(param, typer.core.TyperOption)
            and not param.is_flag
            and param.metavar is None
        ):
            annotation = getattr(param.type_descriptor, "annotation", None)
            kind = _OPTION_METAVARS.get(getattr(annotation, "__name__", ""))
            if kind is not None:
                param.metavar = kind
    return command


class Group(typer.core.TyperGroup):
    """Turns every StreamctlError into one line on stderr and its exit code (never a traceback)."""

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        return readable_metavars(super().get_command(ctx, cmd_name))

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except StreamctlError as exc:
            error_line(exc)
            ctx.exit(exc.exit_code)

    def main(
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        """Click's main; with ``--log-format json`` its usage errors too are one JSON line
        on stderr (exit 2), like every other line of the command."""
        argv = sys.argv[1:] if args is None else [str(a) for a in args]
        use_json_lines(asks_json_lines(argv))
        if not standalone_mode or not json_lines():
            return super().main(
                args, prog_name, complete_var, standalone_mode, windows_expand_args, **extra
            )
        try:
            code = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        except ClickException as exc:
            json_error(getattr(exc, "format_message", exc.__str__)())
            sys.exit(getattr(exc, "exit_code", 2))
        except typer.Abort:
            json_error("aborted")
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


BrokerOpt = typer.Option(
    None,
    "--broker",
    "-b",
    envvar="STREAMCTL_BROKER",
    metavar="URL",
    help="Broker URL (local:// or kafka://host:port); defaults to the pipeline's, else local://.",
)
DatadirOpt = typer.Option(
    None,
    "--datadir",
    "-d",
    envvar="STREAMCTL_DATADIR",
    metavar="DIR",
    help="Data dir of the embedded broker and table stores (default ./.streamctl).",
)
BrokerSettingOpt = typer.Option(
    None,
    "--broker-setting",
    "-S",
    help="A broker client setting KEY=VALUE over the pipeline's broker_settings (repeatable; "
    "${VAR} reads the environment, e.g. sasl_plain_password=${KAFKA_PASSWORD}).",
    show_default=False,
    metavar="KEY=VALUE",
)
PipelineOpt = typer.Option(
    None,
    "--pipeline",
    "-p",
    help="Pipeline file: its broker, data dir and topic declarations are used.",
    metavar="PIPELINE",
)


def check_partitions(value: int | None) -> int | None:
    """Typer callback for ``--partitions``: 1 to MAX_PARTITIONS (usage error, exit 2)."""
    from streamctl.transport.base import MAX_PARTITIONS

    if value is not None and not 1 <= value <= MAX_PARTITIONS:
        raise typer.BadParameter(f"must be from 1 to {MAX_PARTITIONS:,}, not {value}")
    return value


def resolve_target(
    pipeline: Path | None, broker: str | None, datadir: Path | None
) -> tuple[Any, str, Path]:
    """The App (from --pipeline, or a bare one) plus the broker URL and data dir to use."""
    from streamctl.app import App
    from streamctl.settings import default_datadir

    if pipeline is not None:
        app = load_for_cli(pipeline, broker, datadir).app
    else:
        check_cli_broker(broker or "local://")
        app = App(
            "streamctl-cli", broker=broker or "local://", datadir=datadir or default_datadir()
        )
    return app, app.conf.broker, app.conf.datadir


def setup_logging(level: str, log_format: str = "text") -> None:
    """Log ``level`` and up from streamctl to stderr, as text or (``json``) one JSON object
    per line (BadParameter for an unknown level or format)."""
    lvl = log_level(level)
    if lvl is None:
        raise typer.BadParameter(
            f"unknown log level {level!r} (debug, info, warning or error)", param_hint="--log-level"
        )
    if log_format not in ("text", "json"):
        raise typer.BadParameter(
            f"unknown log format {log_format!r} (text or json)", param_hint="--log-format"
        )
    configure_logging(lvl, log_format)
