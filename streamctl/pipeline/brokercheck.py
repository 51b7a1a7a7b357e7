"""Check a pipeline's broker, settings and broker settings as ``run`` would, all at once."""

from __future__ import annotations

import difflib
from typing import Any

from streamctl.exceptions import ConfigurationError
from streamctl.pipeline.errors import Problem
from streamctl.pipeline.limits import MOST
from streamctl.pipeline.spec import SETTINGS_KEYS, PipelineSpec
from streamctl.settings import check_settings


def _hint(name: str, known: Any) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_engine_settings(spec: PipelineSpec, problems: list[Problem]) -> dict[str, Any]:
    """The pipeline's ``settings:`` without the bad ones; each bad one is a Problem."""
    settings = dict(spec.settings)
    for name, reason in check_settings(settings).items():
        settings.pop(name)
        if reason.startswith("unknown setting"):
            continue  # the spec checker reported it, with a hint
        problems.append(spec.located.problem(("settings", name), reason))
    value = settings.get("topic_partitions")
    if isinstance(value, int) and value > MOST["topic_partitions"]:
        problems.append(
            spec.located.problem(
                ("settings", "topic_partitions"),
                f"setting topic_partitions must be at most {MOST['topic_partitions']:,}, "
                f"not {value:,}",
            )
        )
        settings.pop("topic_partitions")
    if "table_store" in settings:
        from streamctl.tables.stores.registry import store_class

        try:
            store_class(settings["table_store"])
        except ConfigurationError as exc:
            problems.append(spec.located.problem(("settings", "table_store"), str(exc)))
            settings.pop("table_store")
    return settings


def check_broker(
    spec: PipelineSpec,
    broker: str,
    settings: dict[str, Any],
    extra: dict[str, Any],
    problems: list[Problem],
    *,
    from_cli: bool = False,
) -> bool:
    """Check ``broker`` (its scheme, URL, exactly-once support) and the broker settings from
    the file and from ``-S`` (``extra``) against what its transport takes: their names
    and their values (:meth:`~streamctl.transport.base.Transport.check_setting_values`,
    the checks its constructor makes when ``run`` opens it). True when the
    broker itself is usable. ``from_cli``: ``broker`` came from ``--broker``, not the file."""
    from streamctl.transport.registry import BUILTIN, transport_class

    def at(message: str) -> Problem:
        if from_cli:
            return Problem("--broker", 0, 0, message)
        return spec.located.problem(("broker",), message)

    try:
        cls = transport_class(broker)
    except ConfigurationError as exc:
        scheme = broker.partition("://")[0] if "://" in broker else ""
        hint = "" if scheme in BUILTIN else _hint(scheme, BUILTIN)
        problems.append(at(str(exc) + hint))
        return False
    reason = cls.check_url(broker)
    if reason is not None:
        problems.append(at(reason))
    scheme = f"{cls.scheme}://" if cls.scheme else broker
    if settings.get("processing_guarantee") == "exactly_once" and not cls.supports_transactions:
        problems.append(
            spec.located.problem(
                ("settings", "processing_guarantee"),
                f"processing_guarantee exactly_once needs a broker with transactions; "
                f"{scheme} is at-least-once (use kafka:// or at_least_once)",
            )
        )
    for source, values in (("file", spec.broker_settings), ("cli", extra)):
        # the values, by the checks the transport's constructor makes when `run` opens it
        for key, why in cls.check_setting_values(values).items():
            if source == "cli":
                problems.append(Problem(f"--broker-setting {key}", 0, 0, why))
            else:
                problems.append(spec.located.problem(("broker_settings", key), why))
    names = cls.setting_names()
    if names is None:
        return reason is None
    engine = set(SETTINGS_KEYS)
    for source, values in (("file", spec.broker_settings), ("cli", extra)):
        for key in values:
            if key in names:
                continue
            if not names:
                what = f"{scheme} takes no broker settings"
            else:
                what = f"unknown {scheme} broker setting {key!r}" + _hint(str(key), names)
            if key in engine:
                what += f"; {key} is an engine setting: put it under settings:"
            if source == "cli":
                problems.append(Problem(f"--broker-setting {key}", 0, 0, what))
            else:
                problems.append(spec.located.problem(("broker_settings", key, "<key>"), what))
    return reason is None
