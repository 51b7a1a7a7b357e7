"""``streamctl topic list|tail``: topics with their counts, and their records as JSON lines."""

from __future__ import annotations

import base64
import heapq
import json
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import typer

from streamctl.cli.common import BrokerOpt, DatadirOpt, Group, PipelineOpt, resolve_target
from streamctl.cli.output import Format, emit, format_option, write_lines
from streamctl.exceptions import ConfigurationError
from streamctl.transport.base import TopicPartition
from streamctl.transport.exceptions import TransportError


def _merged(messages: list[Any]) -> list[Any]:
    """Records in offset order within each partition, partitions merged by timestamp
    (a producer may set timestamps out of order; a partition's order is its offsets)."""
    by_partition: dict[int, list[Any]] = {}
    for m in messages:
        by_partition.setdefault(m.partition, []).append(m)
    runs = [sorted(ms, key=lambda m: m.offset) for _, ms in sorted(by_partition.items())]
    return list(heapq.merge(*runs, key=lambda m: (m.timestamp, m.partition)))


topic_app = typer.Typer(
    cls=Group,
    help="List, read, create and delete topics.\n\nExample: streamctl topic tail orders -n 5",
    no_args_is_help=True,
    rich_markup_mode=None,
)

#: seconds ``tail`` waits for records below the end offsets before it gives up
READ_TIMEOUT = 30.0


@topic_app.command("list")
def list_topics(
    format: Format = format_option(),
    as_json: bool = typer.Option(False, "--json", hidden=True, help="Deprecated: --format json."),
    pipeline: Path = PipelineOpt,
    broker: str = BrokerOpt,
    datadir: Path = DatadirOpt,
) -> None:
    """List topics with their partitions and record counts.

    Example: streamctl topic list -f json
    """
    app, _, _ = resolve_target(pipeline, broker, datadir)
    try:
        transport = app.transport
        specs = transport.list_topics()
        consumer = transport.consumer(None)
        rows = []
        for name in sorted(specs):
            spec = specs[name]
            tps = [TopicPartition(name, p) for p in range(spec.partitions)]
            ends = consumer.end_offsets(tps)
            starts = consumer.beginning_offsets(tps)
            rows.append(
                {
                    "topic": name,
                    "partitions": spec.partitions,
                    "compacting": spec.compacting,
                    "end_offsets": [ends[tp] for tp in tps],
                    "records": sum(ends[tp] - starts[tp] for tp in tps),
                }
            )
        consumer.close()
    finally:
        app.close()
    emit(
        Format.json if as_json else format,
        rows,
        ["topic", "partitions", "compacting", "records"],
    )


def show_key(data: bytes | None) -> Any:
    """A key exactly as stored: null for no key, else its text (a JSON string), so no key,
    the text ``null``, the text ``"quoted"`` and the text ``quoted`` all print differently.
    Bytes that are not UTF-8 show as ``{"base64": ...}``."""
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(data).decode()}


def show_value(data: bytes | None) -> Any:
    """A value as JSON when it is JSON, else its text (or base64 for binary)."""
    if data is None:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(data).decode()}
    try:
        return json.loads(text)
    except ValueError:
        return text


def iso_time(ms: int) -> str:
    """Milliseconds since the epoch as ISO 8601 UTC with milliseconds."""
    try:
        moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return str(ms)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def render(m: Any) -> str:
    """One record as a JSON line (dead letters with their reason and origin)."""
    headers = {k: v.decode("utf-8", "replace") for k, v in m.headers}
    record: dict[str, Any] = {
        "topic": m.topic,
        "partition": m.partition,
        "offset": m.offset,
        "timestamp": m.timestamp,
        "time": iso_time(m.timestamp),
        "key": show_key(m.key),
        "value": show_value(m.value),
    }
    if headers:
        record["headers"] = headers
    if "streamctl.error" in headers:
        record["dead_letter"] = {
            "error": headers["streamctl.error"],
            "source": f"{headers.get('streamctl.source.topic')}[{headers.get('streamctl.source.partition')}]"
            f"@{headers.get('streamctl.source.offset')}",
        }
    return json.dumps(record, ensure_ascii=False)


def read_to(
    consumer: Any, starts: dict[TopicPartition, int], ends: dict[TopicPartition, int]
) -> list[Any]:
    """Every record from ``starts`` up to (not including) ``ends``, the end offsets taken
    when the command was called; records written after that are not read.

    It waits for the broker (Kafka returns nothing before its first fetch) and raises
    TransportError when READ_TIMEOUT seconds pass without progress.
    """
    pending = {tp for tp in starts if starts[tp] < ends[tp]}
    for tp in starts:
        consumer.seek(tp, starts[tp])
    got: list[Any] = []
    last = time.monotonic()
    while pending:
        batch = consumer.poll(10_000, timeout=0.2)
        if batch:
            last = time.monotonic()
        got += [m for m in batch if m.offset < ends[m.tp]]
        for tp in list(pending):
            if consumer.position(tp) >= ends[tp]:
                pending.discard(tp)
        if pending and time.monotonic() - last > READ_TIMEOUT:
            where = ", ".join(f"{tp.topic}[{tp.partition}]" for tp in sorted(pending))
            raise TransportError(
                f"no records from {where} for {READ_TIMEOUT:.0f}s below the end offsets; "
                "is the broker reachable?"
            )
    return got


@topic_app.command("tail")
def tail(
    topic: str = typer.Argument(..., help="Topic to read.", show_default=False),
    n: int = typer.Option(
        None,
        "-n",
        "--lines",
        min=0,
        help="How many records: the latest N (default 10), or the first N from "
        "--from-beginning/--offset (default all up to the current end).",
        show_default=False,
    ),
    from_beginning: bool = typer.Option(
        False, "--from-beginning", help="Start at each partition's first record."
    ),
    partition: int = typer.Option(
        None, "--partition", min=0, help="Read this partition only.", show_default=False
    ),
    offset: int = typer.Option(
        None,
        "--offset",
        min=0,
        help="Start at this offset (with --partition).",
        show_default=False,
    ),
    follow: bool = typer.Option(
        False, "--follow", "-F", help="Keep printing new records until Ctrl-C."
    ),
    pipeline: Path = PipelineOpt,
    broker: str = BrokerOpt,
    datadir: Path = DatadirOpt,
) -> None:
    """Print a topic's records as JSON lines, up to the end offsets at the time of the call:
    offset, timestamp (milliseconds and ISO 8601 UTC), key as its text, value as JSON,
    headers, and dead letters with their reason.

    Example: streamctl topic tail orders-invalid -n 20
    """
    if offset is not None and partition is None:
        raise ConfigurationError("--offset needs --partition (an offset belongs to a partition)")
    if offset is not None and from_beginning:
        raise ConfigurationError("give either --from-beginning or --offset, not both")
    app, _, _ = resolve_target(pipeline, broker, datadir)
    try:
        transport = app.transport
        specs = transport.list_topics()
        if topic not in specs:
            raise ConfigurationError(f"topic {topic!r} does not exist (see: streamctl topic list)")
        count = specs[topic].partitions
        if partition is not None and partition >= count:
            raise ConfigurationError(
                f"topic {topic!r} has {count} partition(s): no partition {partition}"
            )
        parts = [partition] if partition is not None else range(count)
        tps = [TopicPartition(topic, p) for p in parts]
        consumer = transport.consumer(None)
        consumer.assign(tps)
        ends = consumer.end_offsets(tps)
        firsts = consumer.beginning_offsets(tps)
        latest = not from_beginning and offset is None
        if latest:
            limit = 10 if n is None else n
            starts = {tp: max(firsts[tp], ends[tp] - limit) for tp in tps}
        else:
            start = offset if offset is not None else 0
            starts = {tp: min(max(firsts[tp], start), ends[tp]) for tp in tps}
        batch = _merged(read_to(consumer, starts, ends))
        if latest:
            batch = batch[-limit:] if limit else []
        elif n is not None:
            batch = batch[:n]
        write_lines(render(m) for m in batch)
        if follow:
            for tp in tps:
                consumer.seek(tp, ends[tp])
            try:
                while True:
                    got = consumer.poll(1000, timeout=0.5)
                    if got:
                        write_lines(render(m) for m in got)
            except KeyboardInterrupt:
                pass
        consumer.close()
    finally:
        app.close()
