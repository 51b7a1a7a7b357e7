"""``streamctl send``: JSON values to a topic, all or nothing."""

from __future__ import annotations

import json
import os
import stat
import sys
import uuid
from pathlib import Path
from typing import Any

import typer

from streamctl.cli.common import (
    BrokerOpt,
    DatadirOpt,
    PipelineOpt,
    check_partitions,
    out,
    resolve_target,
)
from streamctl.cli.plain import number
from streamctl.cli.tables import parse_arg
from streamctl.exceptions import ConfigurationError
from streamctl.models.codecs import get_codec
from streamctl.transport.base import TopicSpec

#: ``streamctl send`` on Kafka: the transaction timeout, in milliseconds (a whole file is
#: one transaction; Kafka aborts a killed send's transaction after this long)
SEND_TRANSACTION_MS = 60_000


class BadInput(ConfigurationError):
    """A line to send is not JSON, or has no key field: nothing was sent (exit 2)."""


def read_values(file: str | None, value: str | None) -> list[tuple[str, int, Any]]:
    """(source, line, value) for every JSON value; all parsed before anything is sent.

    ``VALUE`` ``-`` and ``--file -`` both read JSON lines from stdin.
    """
    if value == "-":
        if file:
            raise ConfigurationError("give either - (stdin) or --file, not both")
        file, value = "-", None
    if value is not None:
        if file:
            raise ConfigurationError("give either a VALUE or --file, not both")
        return [("<argument>", 1, _parse(value, "<argument>", 1))]
    if not file:
        raise ConfigurationError("nothing to send: give a VALUE, --file FILE, or - for stdin")
    if file == "-":
        name, lines = "<stdin>", _bounded(sys.stdin.buffer, "<stdin>").splitlines()
    else:
        name, lines = file, _read_file(file).splitlines()
    return [(name, n, _parse(text, name, n)) for n, text in enumerate(lines, 1) if text.strip()]


def _key_of(obj: Any, key: str | None, key_field: str | None, source: str, line: int) -> Any:
    """The record's key; checked for every line before the first is sent."""
    if key_field is None:
        return key
    if not isinstance(obj, dict) or key_field not in obj:
        raise BadInput(
            f"{source}:{line}: no field {key_field!r} to take the key from; nothing was sent"
        )
    return obj[key_field]


#: the most ``send`` reads from a file or stdin, in bytes: every line is parsed (and held)
#: before the first is sent, so the input must fit in memory
MAX_SEND_BYTES = 256 * 1024 * 1024


def _read_file(file: str) -> str:
    """A regular file's text, at most MAX_SEND_BYTES (``/dev/zero`` never ends)."""
    try:
        with open(file, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise BadInput(f"cannot read {file}: not a regular file; nothing was sent")
            return _bounded(f, file)
    except OSError as exc:
        raise BadInput(f"cannot read {file}: {exc.strerror or exc}; nothing was sent") from None


def _bounded(f: Any, name: str) -> str:
    data = f.read(MAX_SEND_BYTES + 1)
    if len(data) > MAX_SEND_BYTES:
        raise BadInput(f"{name}: larger than {MAX_SEND_BYTES:,} bytes; split it into several sends")
    try:
        return str(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise BadInput(f"{name}: not UTF-8 text ({exc}); nothing was sent") from None


def _parse(text: str, name: str, line: int) -> Any:
    try:
        json.loads(text)  # for the column of a syntax error
    except json.JSONDecodeError as exc:
        raise BadInput(
            f"{name}:{line}:{exc.colno}: invalid JSON ({exc.msg}); nothing was sent"
        ) from None
    except RecursionError:
        raise BadInput(f"{name}:{line}: JSON nested too deeply; nothing was sent") from None
    try:
        # what the engine accepts: no NaN or Infinity (1e400), which no codec could write
        return get_codec("json").loads(text.encode())
    except Exception as exc:  # the codec's DecodeError: bad input here, not a run-time failure
        raise BadInput(f"{name}:{line}: {exc}; nothing was sent") from None


def send(
    topic: str = typer.Argument(..., help="Topic to write to.", show_default=False),
    value: str = typer.Argument(
        None, help="One JSON value to send, or - to read JSON lines from stdin.", show_default=False
    ),
    key: str = typer.Option(None, "--key", "-k", help="Key for every record."),
    key_field: str = typer.Option(
        None,
        "--key-field",
        help="Take each record's key from this field of its value (not with --key).",
        metavar="FIELD",
    ),
    file: str = typer.Option(
        "", "--file", help="JSON lines file to send, or - for stdin.", metavar="FILE"
    ),
    partitions: int = typer.Option(
        None,
        "--partitions",
        metavar="N",
        callback=check_partitions,
        help="Create the topic with this many partitions if it is missing.",
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
    if key is not None and key_field is not None:
        raise ConfigurationError(
            "give either --key (one key for every record) or --key-field (a key per record), "
            "not both"
        )
    records = read_values(file, value)
    keys = [_key_of(obj, key, key_field, source, line) for source, line, obj in records]
    app, _, _ = resolve_target(pipeline, broker, datadir)
    transactional = app.conf.broker.startswith(("kafka:", "kafka+"))
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
    out.print(f"sent {number(len(records))} record(s) to {topic}", markup=False)
