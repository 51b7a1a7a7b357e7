"""The CLI's plumbing that needs neither Typer nor rich: ``streamctl run`` starts on it.

``streamctl run`` on the embedded broker should reach its first event fast (#14), so
what it needs lives here and imports rich only on a terminal (the colours, the live
status line); :mod:`streamctl.cli.common` re-exports it for the other commands.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

from streamctl.envvars import expand
from streamctl.exceptions import StreamctlError
from streamctl.redact import Redact, is_secret, secret_values

#: the rich consoles (stdout, stderr), made on first use
_CONSOLES: dict[bool, Any] = {}
#: True once ``--log-format json`` was asked for: every stderr line is then a JSON object
_JSON_LINES = [False]


def json_lines() -> bool:
    """True when stderr carries JSON lines only (``--log-format json``): no rich output."""
    return _JSON_LINES[0]


def use_json_lines(on: bool = True) -> None:
    """Make every stderr line of this process a JSON object (or plain/rich text again)."""
    _JSON_LINES[0] = on


def asks_json_lines(argv: list[str]) -> bool:
    """True when the arguments ask for ``--log-format json`` (both spellings)."""
    return "--log-format=json" in argv or any(
        a == "--log-format" and b == "json" for a, b in zip(argv, argv[1:])
    )


def json_error(message: str) -> None:
    """``message`` as one JSON log line on stderr (level ``error``, logger ``streamctl.cli``),
    formatted as ``--log-format json`` formats every line."""
    from streamctl.observe.logs import JsonFormatter

    record = logging.LogRecord("streamctl.cli", logging.ERROR, __file__, 0, message, None, None)
    sys.stderr.write(JsonFormatter().format(record) + "\n")
    sys.stderr.flush()


def console(*, stderr: bool) -> Any:
    """The one rich Console of stdout (or stderr) every command prints through."""
    c = _CONSOLES.get(stderr)
    if c is None:
        from rich.console import Console

        c = _CONSOLES[stderr] = Console(stderr=stderr, highlight=False, soft_wrap=True, emoji=False)
    return c


def number(n: int | float) -> str:
    """A count with thousands separators, as every human-facing line prints it (``12,345``)."""
    return f"{n:,}" if isinstance(n, int) else f"{n:,.1f}"


def error_line(exc: StreamctlError) -> None:
    """Print ``error: <message>`` for ``exc`` on stderr, one line (red on a terminal)."""
    message = str(exc)
    cause = exc.__cause__
    if (
        isinstance(cause, Exception)
        and not isinstance(cause, StreamctlError)
        and not logging.getLogger("streamctl").isEnabledFor(logging.DEBUG)
    ):
        message += " (--log-level debug shows the traceback)"
    if json_lines():
        json_error(message)
        return
    if "rich" not in sys.modules and not sys.stderr.isatty():
        sys.stderr.write(f"error: {message}\n")
        sys.stderr.flush()
        return
    from rich.markup import escape

    # escaped: messages quote user text, e.g. a pattern like [a-z] is not markup
    console(stderr=True).print(f"[red]error:[/red] {escape(message)}", markup=True, highlight=False)


def load_for_cli(
    pipeline: Path,
    broker: str | None,
    datadir: Path | None,
    broker_settings: dict[str, Any] | None = None,
) -> Any:
    """``load_pipeline`` for a command (or, for ``package.module:app``, the Python app:
    :mod:`streamctl.cli.appsource`): also refuses a broker that lives in one process."""
    from streamctl.cli.appsource import (
        is_app_target,
        load_app,
        refuse_malformed_target,
        refuse_python_file,
    )
    from streamctl.pipeline import load_pipeline

    refuse_python_file(str(pipeline))
    refuse_malformed_target(str(pipeline))
    if is_app_target(pipeline):
        loaded: Any = load_app(str(pipeline), broker, datadir, broker_settings)
    else:
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


def log_level(level: str) -> int | None:
    """The logging level named ``level`` (``info``, ``DEBUG``...), or None if there is none."""
    lvl = getattr(logging, level.upper(), None)
    return lvl if isinstance(lvl, int) else None


def configure_logging(lvl: int, log_format: str = "text") -> None:
    """Send streamctl's log records of level ``lvl`` and up to stderr: rich on a terminal,
    plain lines otherwise, or with ``log_format="json"`` one JSON object per line
    (``streamctl.observe.logs``)."""
    handler: logging.Handler
    use_json_lines(log_format == "json")
    if log_format == "json":
        from streamctl.observe.logs import JsonFormatter

        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
    elif sys.stderr.isatty() and not os.environ.get("NO_COLOR"):
        from rich.logging import RichHandler

        handler = RichHandler(console=console(stderr=True), show_path=False, rich_tracebacks=False)
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


class RecoveryProgress:
    """A rich progress bar for changelog replays on a terminal (nothing otherwise)."""

    def __init__(self, threshold: int = 10_000) -> None:
        self.threshold = threshold
        self.bar: Any = None
        self.tasks: dict[tuple[str, int], Any] = {}

    def __call__(self, table: Any, partition: int, done: int, total: int) -> None:
        if total < self.threshold or not sys.stderr.isatty() or json_lines():
            return
        if self.bar is None:
            from rich.progress import Progress

            self.bar = Progress(console=console(stderr=True), transient=True)
            self.bar.start()
        task = self.tasks.get((table.name, partition))
        if task is None:
            task = self.tasks[(table.name, partition)] = self.bar.add_task(
                f"recovering {table.name}[{partition}]", total=total
            )
        self.bar.update(task, completed=done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
