"""``streamctl topic create|delete`` (registered on ``streamctl topic`` in main; the work
is :mod:`streamctl.admin.topics`'s)."""

from __future__ import annotations

from pathlib import Path

import typer

from streamctl.admin import topics as admin
from streamctl.cli.common import (
    BrokerOpt,
    BrokerSettingOpt,
    DatadirOpt,
    PipelineOpt,
    check_partitions,
    out,
    parse_broker_settings,
    redact_secrets,
    resolve_target,
)
from streamctl.exceptions import StreamctlError


class NotConfirmed(StreamctlError):
    """``topic delete`` was not confirmed."""


def create(
    name: str = typer.Argument(..., help="Topic to create.", show_default=False),
    partitions: int = typer.Option(
        ...,
        "--partitions",
        metavar="N",
        callback=check_partitions,
        help="Partition count.",
        show_default=False,
    ),
    compacted: bool = typer.Option(
        False, "--compacted", help="Keep only the latest record per key (cleanup.policy=compact)."
    ),
    pipeline: Path = PipelineOpt,
    broker: str = BrokerOpt,
    datadir: Path = DatadirOpt,
    broker_setting: list[str] = BrokerSettingOpt,
) -> None:
    """Create a topic (refused if it exists).

    Example: streamctl topic create orders --partitions 4 -b kafka://127.0.0.1:19092
    """
    admin.check_name(name)
    extra = parse_broker_settings(broker_setting)
    app, _, _ = resolve_target(pipeline, broker, datadir)
    try:
        app.conf.broker_settings.update(extra)
        redact_secrets(app.conf.broker_settings)
        spec = admin.create(app.transport, name, partitions, compacted=compacted)
    finally:
        app.close()
    kind = ", compacted" if spec.compacting else ""
    out.print(f"created topic {name} ({spec.partitions} partition(s){kind})", markup=False)


def delete(
    name: str = typer.Argument(..., help="Topic to delete.", show_default=False),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    pipeline: Path = PipelineOpt,
    broker: str = BrokerOpt,
    datadir: Path = DatadirOpt,
    broker_setting: list[str] = BrokerSettingOpt,
) -> None:
    """Delete a topic with its records and the groups' offsets on it (asks first, unless
    --yes; refused while a worker that reads it runs).

    Example: streamctl topic delete orders-invalid --yes
    """
    extra = parse_broker_settings(broker_setting)
    app, _, _ = resolve_target(pipeline, broker, datadir)
    try:
        app.conf.broker_settings.update(extra)
        redact_secrets(app.conf.broker_settings)
        transport = app.transport
        # a pipeline's app reads its declared topics, even before it committed any offset
        apps = [app.id] if pipeline is not None and name in app.topics else []
        admin.check_deletable(transport, name, apps)
        if not yes:
            count = admin.record_count(transport, name)
            question = f"Delete topic {name!r} and its {count:,} record(s)?"
            why = ""
            try:
                confirmed = typer.confirm(question, default=False, err=True)
            except typer.Abort:  # end of input (a script without --yes) or Ctrl-C
                confirmed, why = False, " (no answer; pass --yes to delete without asking)"
            if not confirmed:
                raise NotConfirmed(f"topic {name!r} was not deleted{why}")
        admin.delete(transport, name, apps)
    finally:
        app.close()
    out.print(f"deleted topic {name}", markup=False)
