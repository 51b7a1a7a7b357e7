"""``streamctl send`` and ``streamctl topic list|tail``."""

from __future__ import annotations

import base64
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import typer

from streamctl.cli.common import BrokerOpt, DatadirOpt, Group, PipelineOpt, out, resolve_target
from streamctl.cli.tables import parse_arg
from streamctl.exceptions import ConfigurationError, DecodeError
from streamctl.models.codecs import get_codec
from streamctl.transport.base import TopicPartition, TopicSpec

#: ``streamctl send`` on Kafka: the transaction timeout, in milliseconds (a whole file is
#: one transaction; Kafka aborts a killed send's transaction after this long)
SEND_TRANSACTION_MS = 60_000

topic_app = typer.Typer(
    cls=Group, help="List and read topics.", no_args_is_help=True, rich_markup_mode=None
)


def _read_lines(file: str, value: str | None) -> list[tuple[str, int, Any]]:
    """(source, line, value) for every JSON value; all parsed before anything is sent."""
    if value is not None:
        if file:
            raise ConfigurationError("give either a VALUE or --file, not both")
        return [("<argument>", 1, _parse(value, "<argument>", 1))]
    if not file:
        raise ConfigurationError("nothing to send: give a VALUE, --file FILE or --file -")
    if file == "-":
        name, lines = "<stdin>", sys.stdin.read().splitlines()
    else:
        try:
            name, lines = file, Path(file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"cannot read {file}: {exc}") from None
    return [(name, n, _parse(text, name, n)) for n, text in enumerate(lines, 1) if text.strip()]


def _key_of(obj: Any, key: str | None, key_field: str | None, source: str, line: int) -> Any:
    """The record's key; checked for every line before the first is sent."""
    if key_field is None:
        return key
    if not isinstance(obj, dict) or key_field not in obj:
        raise ConfigurationError(
            f"{source}:{line}: no field {key_field!r} to take the key from; nothing was sent"
        )
    return obj[key_field]


def _parse(text: str, name: str, line: int) -> Any:
    try:
        json.loads(text)  # for the column of a syntax error
    except json.JSONDecodeError as exc:
        raise DecodeError(
            f"{name}:{line}:{exc.colno}: invalid JSON ({exc.msg}); nothing was sent"
        ) from None
    try:
        # what the engine accepts: no NaN or Infinity (1e400), which no codec could write
        return get_codec("json").loads(text.encode())
    except DecodeError as exc:
        raise DecodeError(f"{name}:{line}: {exc}; nothing was sent") from None


def send(
    topic: str = typer.Argument(..., help="Topic to write to.", show_default=False),
    value: str = typer.Argument(None, help="One JSON value to send.", show_default=False),
    key: str = typer.Option(None, "--key", "-k", help="Key for every record."),
    key_field: str = typer.Option(
        None, "--key-field", help="Take each record's key from this field of its value."
    ),
    file: str = typer.Option("", "--file", "-f", help="JSON lines file to send, or - for stdin."),
    partitions: int = typer.Option(
        None, "--partitions", help="Create the topic with this many partitions if it is missing."
    ),
    pipeline: Path = PipelineOpt,
    broker: str = BrokerOpt,
    datadir: Path = DatadirOpt,
) -> None:
    """Send JSON values to a topic, one record per value, all or nothing: every line is
    parsed before the first is sent, then all are written in one transaction. On the
    embedded broker that is one SQLite transaction. On Kafka it is a Kafka transaction:
    consumers reading read_committed (streamctl workers with exactly_once) see every
    record or none; read_uncommitted consumers (Kafka's default) may see the records of
    a send that was killed or failed. A killed send's open transaction holds back
    read_committed readers of its partitions until Kafka aborts it (60 s).

    Example: streamctl send orders --file orders.jsonl --key-field customer_id -p pipelines/quickstart.yaml
    """
    records = _read_lines(file, value)
    keys = [_key_of(obj, key, key_field, source, line) for source, line, obj in records]
    app, _, _ = resolve_target(pipeline, broker, datadir)
    transactional = app.conf.broker.startswith("kafka:")
    if transactional:
        # a whole file in one transaction: longer than a worker's batch (10 s)
        app.conf.broker_settings.setdefault("transaction_timeout_ms", SEND_TRANSACTION_MS)
    try:
        if pipeline is not None:
            app.ensure_topics()
        existing = app.transport.list_topics()
        if topic not in existing:
            if partitions is None:
                raise ConfigurationError(
                    f"topic {topic!r} does not exist; declare it in a pipeline (--pipeline) "
                    "or pass --partitions N to create it"
                )
            app.transport.create_topics([TopicSpec(topic, partitions)])
        t = app.topics.get(topic) or app.topic(topic, key_type=str, key_serializer="raw")
        producer = app.producer
        if transactional:
            producer = app.context.transactional_producer(f"streamctl-send-{uuid.uuid4().hex}")
            producer.begin_transaction()
        for (_source, _line, obj), k in zip(records, keys, strict=True):
            if (
                k is not None
                and t.key_serde.codec.name == "raw"
                and not isinstance(k, (str, bytes))
            ):
                k = str(k)
            elif isinstance(k, str) and key_field is None and t.key_serde.codec.name == "json":
                k = parse_arg(k, t.key_type)  # --key 5 for an int key, --key pen for text
            t.send_soon(key=k, value=obj)
        if transactional:
            try:
                producer.commit_transaction({})
            except BaseException:
                producer.abort_transaction()
                raise
        else:
            producer.flush()  # one SQLite transaction on the embedded broker
    finally:
        app.close()
    out.print(f"sent {len(records)} record(s) to {topic}", markup=False)


@topic_app.command("list")
def list_topics(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    pipeline: Path = PipelineOpt,
    broker: str = BrokerOpt,
    datadir: Path = DatadirOpt,
) -> None:
    """List topics with their partitions and record counts.

    Example: streamctl topic list --json
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
    if as_json:
        out.print(json.dumps(rows, indent=2), markup=False)
        return
    from rich.table import Table

    table = Table("topic", "partitions", "compacting", "records")
    for r in rows:
        table.add_row(
            r["topic"], str(r["partitions"]), "yes" if r["compacting"] else "", f"{r['records']:,}"
        )
    out.print(table)


def _show(data: bytes | None) -> Any:
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


def _render(m: Any) -> str:
    headers = {k: v.decode("utf-8", "replace") for k, v in m.headers}
    record: dict[str, Any] = {
        "topic": m.topic,
        "partition": m.partition,
        "offset": m.offset,
        "timestamp": m.timestamp,
        "key": _show(m.key),
        "value": _show(m.value),
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


@topic_app.command("tail")
def tail(
    topic: str = typer.Argument(..., help="Topic to read.", show_default=False),
    n: int = typer.Option(
        10,
        "-n",
        "--lines",
        help="How many of the latest records to show (per partition order, merged by time).",
    ),
    follow: bool = typer.Option(
        False, "--follow", "-F", help="Keep printing new records until Ctrl-C."
    ),
    pipeline: Path = PipelineOpt,
    broker: str = BrokerOpt,
    datadir: Path = DatadirOpt,
) -> None:
    """Print a topic's latest records as JSON lines (dead letters with their reason).

    Example: streamctl topic tail orders-invalid -n 20
    """
    app, _, _ = resolve_target(pipeline, broker, datadir)
    try:
        transport = app.transport
        specs = transport.list_topics()
        if topic not in specs:
            raise ConfigurationError(f"topic {topic!r} does not exist (see: streamctl topic list)")
        consumer = transport.consumer(None)
        tps = [TopicPartition(topic, p) for p in range(specs[topic].partitions)]
        consumer.assign(tps)
        ends = consumer.end_offsets(tps)
        starts = consumer.beginning_offsets(tps)
        for tp in tps:
            consumer.seek(tp, max(starts[tp], ends[tp] - n))
        batch = []
        while True:
            got = consumer.poll(10_000, timeout=0.0)
            got = [m for m in got if m.offset < ends[m.tp]]
            if not got:
                break
            batch.extend(got)
        batch.sort(key=lambda m: (m.timestamp, m.partition, m.offset))
        for m in batch[-n:] if n > 0 else []:
            out.print(_render(m), markup=False, highlight=False)
        if follow:
            for tp in tps:
                consumer.seek(tp, ends[tp])
            try:
                while True:
                    for m in consumer.poll(1000, timeout=0.5):
                        out.print(_render(m), markup=False, highlight=False)
                    time.sleep(0)
            except KeyboardInterrupt:
                pass
        consumer.close()
    finally:
        app.close()
