"""Shared CLI plumbing: error handling, broker/datadir options, consoles."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from streamctl.envvars import expand
from streamctl.exceptions import StreamctlError
from streamctl.redact import Redact, is_secret, secret_values

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


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
            message = str(exc)
            cause = exc.__cause__
            if (
                isinstance(cause, Exception)
                and not isinstance(cause, StreamctlError)
                and not logging.getLogger("streamctl").isEnabledFor(logging.DEBUG)
            ):
                message += " (--log-level debug shows the traceback)"
            # escaped: messages quote user text, e.g. a pattern like [a-z] is not markup
            err.print(f"[red]error:[/red] {escape(message)}", markup=True, highlight=False)
            ctx.exit(exc.exit_code)


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


def load_for_cli(
    pipeline: Path,
    broker: str | None,
    datadir: Path | None,
    broker_settings: dict[str, Any] | None = None,
) -> Any:
    """``load_pipeline`` for a command: also refuses a broker that lives in one process."""
    from streamctl.pipeline import load_pipeline

    loaded = load_pipeline(
        pipeline, broker=broker, datadir=datadir, broker_settings=broker_settings
    )
    check_cli_broker(loaded.app.conf.broker)
    return loaded


def check_cli_broker(url: str) -> None:
    """Refuse ``memory://`` (and any transport that is not durable) on the command line."""
    from streamctl.exceptions import ConfigurationError
    from streamctl.transport.registry import transport_class

    if not transport_class(url).durable:
        raise ConfigurationError(
            f"broker {url!r} lives in one process: what one command writes is gone when it "
            "exits; use local:// (the embedded broker) or kafka://HOST:PORT "
            "(memory:// is for tests: streamctl.testing)"
        )


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
    """Log ``streamctl.*`` to stderr at ``level``: rich on a terminal, plain lines otherwise,
    or one JSON object per line with ``log_format="json"`` (``streamctl.observe.logs``)."""
    lvl = getattr(logging, level.upper(), None)
    if not isinstance(lvl, int):
        raise typer.BadParameter(f"unknown log level {level!r}")
    if log_format not in ("text", "json"):
        raise typer.BadParameter(f"unknown log format {log_format!r} (text or json)")
    if log_format == "json":
        from streamctl.observe.logs import JsonFormatter

        handler: logging.Handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
    elif sys.stderr.isatty() and not os.environ.get("NO_COLOR"):
        from rich.logging import RichHandler

        handler = RichHandler(console=err, show_path=False, rich_tracebacks=False)
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("streamctl")
    root.handlers[:] = [handler]
    root.setLevel(lvl)
    root.propagate = False


def parse_broker_settings(items: list[str] | None) -> dict[str, Any]:
    """``["acks=1", "sasl_plain_password=${KAFKA_PASSWORD}"]`` -> settings.

    ``${VAR}`` is taken from the environment (so a secret need not appear in the
    process list); values are YAML scalars (``6000`` is a number, ``true`` a bool).
    """
    import yaml

    from streamctl.exceptions import ConfigurationError

    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigurationError(f"--broker-setting wants KEY=VALUE, not {key or item!r}")
        missing: list[str] = []
        value = expand(raw, missing.append)
        if missing:
            raise ConfigurationError(
                f"--broker-setting {key}: environment variable {missing[0]} is not set"
            )
        if is_secret(key):
            out[key] = value  # never reinterpreted (nor echoed in a YAML error)
            continue
        try:
            out[key] = yaml.safe_load(value) if value else ""
        except yaml.YAMLError:
            out[key] = value
    return out


def redact_secrets(settings: dict[str, Any]) -> None:
    """Keep the secret values among ``settings`` out of every log line from now on."""
    secrets = secret_values(settings)
    if not secrets:
        return
    redact = Redact(secrets)
    handlers = [*logging.getLogger("streamctl").handlers, *logging.getLogger().handlers]
    if logging.lastResort is not None:
        handlers.append(logging.lastResort)
    for handler in handlers:
        handler.addFilter(redact)
