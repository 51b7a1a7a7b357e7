"""``streamctl group list|describe|reset``: consumer groups, lag and offset resets.

APP is an app id (its consumer group) or a pipeline file; ``-p PIPELINE`` also
names the app and gives its broker, data dir and source topics. The work is
:mod:`streamctl.admin.groups`'s; this module parses and renders.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from streamctl.admin import groups as admin
from streamctl.cli.common import (
    BrokerOpt,
    BrokerSettingOpt,
    DatadirOpt,
    Group,
    PipelineOpt,
    out,
    parse_broker_settings,
    redact_secrets,
    resolve_target,
    setup_logging,
)
from streamctl.cli.output import Format, format_option
from streamctl.exceptions import ConfigurationError
from streamctl.naming import consumer_group

group_app = typer.Typer(
    cls=Group,
    help="Consumer groups: list them, show their lag, reset their offsets to reprocess or "
    "skip records.\n\n"
    "Example: streamctl group reset -p pipelines/revenue.yaml --to-earliest --execute",
    no_args_is_help=True,
    rich_markup_mode=None,
)


#: ``-f`` as everywhere (json, jsonl, table); these operator views default to table, as
#: kafka-consumer-groups.sh prints them
FormatOpt = format_option(
    Format.table,
    help="table: aligned columns (the default); json: one JSON document; jsonl: one line.",
)
AppArg = typer.Argument(
    None,
    metavar="APP",
    help="App id (its consumer group) or pipeline file; or give -p PIPELINE.",
    show_default=False,
)


@contextmanager
def _target(
    app_arg: str | None,
    pipeline: Path | None,
    broker: str | None,
    datadir: Path | None,
    settings: list[str] | None,
    *,
    need_app: bool = True,
) -> Iterator[tuple[Any, str, list[str]]]:
    """(App, group id, the app's source topics), the App closed on the way out."""
    setup_logging("warning")
    if app_arg and pipeline is None and app_arg.endswith((".yaml", ".yml")):
        pipeline, app_arg = Path(app_arg), None
    if need_app and not app_arg and pipeline is None:
        raise ConfigurationError("name the app: an APP id, a pipeline file, or -p PIPELINE")
    extra = parse_broker_settings(settings)
    app, _, _ = resolve_target(pipeline, broker, datadir)
    try:
        app.conf.broker_settings.update(extra)
        redact_secrets(app.conf.broker_settings)
        sources: list[str] = []
        if pipeline is not None:
            if app_arg and app_arg != app.id:
                raise ConfigurationError(f"{pipeline} declares app {app.id!r}, not {app_arg!r}")
            app_arg = app.id
            sources = sorted({getattr(a.channel, "name", "") for a in app.agents.values()} - {""})
        yield app, consumer_group(app_arg) if app_arg else "", sources
    finally:
        app.close()


def _columns(header: Sequence[str], rows: list[Sequence[str]]) -> None:
    """Aligned plain columns (fast for many rows, nothing wraps or truncates)."""
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)
    ]
    for row in [header, *rows]:
        out.print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip(), markup=False)


def _n(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


@group_app.command("list")
def list_groups(
    format: Format = FormatOpt,
    pipeline: Path = PipelineOpt,
    broker: str = BrokerOpt,
    datadir: Path = DatadirOpt,
    broker_setting: list[str] = BrokerSettingOpt,
) -> None:
    """List consumer groups with their state (Stable, Empty, ...) and live members.

    Example: streamctl group list -b kafka://127.0.0.1:19092
    """
    with _target(None, pipeline, broker, datadir, broker_setting, need_app=False) as (
        target,
        _,
        _,
    ):
        groups = target.transport.list_groups()
    rows = [
        {"group": g.group_id, "state": g.state, "members": [str(m) for m in g.members]}
        for g in groups
    ]
    if format is Format.json:
        out.print(json.dumps(rows, indent=2), markup=False)
        return
    if format is Format.jsonl:
        for row in rows:
            out.print(json.dumps(row), markup=False)
        return
    _columns(
        ("group", "state", "members"),
        [(r["group"], r["state"], ", ".join(r["members"]) or "-") for r in rows],
    )


@group_app.command("describe")
def describe(
    app: str = AppArg,
    format: Format = FormatOpt,
    pipeline: Path = PipelineOpt,
    broker: str = BrokerOpt,
    datadir: Path = DatadirOpt,
    broker_setting: list[str] = BrokerSettingOpt,
) -> None:
    """Show a group's state, members and, per topic-partition, committed offset, end
    offset and lag (records left; from the earliest offset where nothing is committed).

    Example: streamctl group describe pipelines/revenue.yaml
    """
    with _target(app, pipeline, broker, datadir, broker_setting) as (target, group, sources):
        view = admin.describe(target.transport, group, sources)
        if view.state == "Dead" and not view.partitions:
            known = [g.group_id for g in target.transport.list_groups()]
            import difflib

            close = difflib.get_close_matches(group, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else " (see: streamctl group list)"
            raise ConfigurationError(f"consumer group {group!r} does not exist{hint}")
    if format is Format.json:
        data = {
            "group": view.group_id,
            "state": view.state,
            "members": [str(m) for m in view.members],
            "lag": view.lag,
            "partitions": [
                {
                    "topic": p.topic,
                    "partition": p.partition,
                    "committed": p.committed,
                    "start": p.start,
                    "end": p.end,
                    "lag": p.lag,
                    "internal": p.internal,
                    "member": p.member,
                }
                for p in view.partitions
            ],
        }
        out.print(json.dumps(data, indent=2), markup=False)
        return
    if format is Format.jsonl:
        raise ConfigurationError("group describe prints one document: use -f json or -f table")
    members = ", ".join(map(str, view.members)) or "no live member"
    out.print(f"group {view.group_id}: {view.state}, {members}", markup=False)
    _columns(
        ("topic", "partition", "committed", "end", "lag", "member"),
        [
            (
                p.topic + (" (internal)" if p.internal else ""),
                str(p.partition),
                _n(p.committed),
                _n(p.end),
                _n(p.lag),
                p.member or "-",
            )
            for p in view.partitions
        ],
    )
    out.print(f"lag {view.lag:,} (source topics)", markup=False)


@group_app.command("reset")
def reset(
    app: str = AppArg,
    to_earliest: bool = typer.Option(
        False, "--to-earliest", help="To each partition's first offset."
    ),
    to_latest: bool = typer.Option(
        False, "--to-latest", help="To each partition's end: skip everything."
    ),
    to_datetime: str = typer.Option(
        None,
        "--to-datetime",
        metavar="TIME",
        help="To the first record at or after TIME (ISO 8601; local time unless it ends in Z "
        "or +HH:MM); to the end where none is that late.",
    ),
    shift: int = typer.Option(
        None,
        "--shift",
        metavar="N",
        help="Move the committed offset by N (negative: back), clamped to [earliest, latest].",
    ),
    to_offset: int = typer.Option(
        None, "--to-offset", metavar="OFFSET", help="To OFFSET, clamped."
    ),
    topic: list[str] = typer.Option(
        None,
        "--topic",
        "-t",
        metavar="TOPIC",
        help="Only this topic (repeatable); default: every "
        "topic the group committed and the app's source topics.",
    ),
    partition: list[int] = typer.Option(
        None,
        "--partition",
        metavar="P",
        help="Only this partition of the one --topic (repeatable).",
    ),
    execute: bool = typer.Option(
        False, "--execute", help="Apply the plan (without it, only show it: a dry run)."
    ),
    format: Format = FormatOpt,
    pipeline: Path = PipelineOpt,
    broker: str = BrokerOpt,
    datadir: Path = DatadirOpt,
    broker_setting: list[str] = BrokerSettingOpt,
) -> None:
    """Reset a group's committed offsets, as kafka-consumer-groups.sh --reset-offsets:
    refused while the group has live members; shows the plan (current -> new offset per
    partition) and applies it only with --execute. The app's internal repartition topics
    go to their end unless named with --topic. Table state is not reset.

    Example: streamctl group reset orders --shift 1 --topic orders --partition 2 --execute
    """
    chosen = [
        (name, value)
        for name, given, value in (
            ("earliest", to_earliest, None),
            ("latest", to_latest, None),
            ("datetime", to_datetime is not None, to_datetime),
            ("shift", shift is not None, shift),
            ("offset", to_offset is not None, to_offset),
        )
        if given
    ]
    if len(chosen) != 1:
        raise ConfigurationError(
            "give exactly one of --to-earliest, --to-latest, --to-datetime, --shift, --to-offset"
        )
    mode, raw = chosen[0]
    value = admin.parse_datetime(str(raw)) if mode == "datetime" else raw
    assert value is None or isinstance(value, int)
    with _target(app, pipeline, broker, datadir, broker_setting) as (target, group, sources):
        admin.refuse_if_live(target.transport, group)
        plan = admin.plan_reset(
            target.transport,
            group,
            mode,
            value,
            topics=list(topic or []),
            partitions=list(partition or []),
            app_topics=sources,
        )
        if execute:
            admin.execute(target.transport, group, plan)
    if format is not Format.table:
        rows = [
            {
                "topic": r.topic,
                "partition": r.partition,
                "current": r.current,
                "new": r.new,
                "note": r.note,
            }
            for r in plan
        ]
        if format is Format.jsonl:
            for row in rows:
                out.print(json.dumps({"group": group, "executed": execute, **row}), markup=False)
            return
        out.print(
            json.dumps({"group": group, "executed": execute, "plan": rows}, indent=2), markup=False
        )
        return
    _columns(
        ("topic", "partition", "current", "new", ""),
        [(r.topic, str(r.partition), _n(r.current), _n(r.new), r.note) for r in plan],
    )
    if execute:
        out.print(f"reset {len(plan)} partition(s) of group {group}", markup=False)
    else:
        out.print("dry run: nothing changed; add --execute to apply this plan", markup=False)
