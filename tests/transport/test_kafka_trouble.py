"""Broker trouble says what is wrong, in bounded time, and never shows a password (#10)."""

from __future__ import annotations

import logging
import re
import socket
from pathlib import Path

import pytest
from support import cli

SECRET = "s3cr3t-Pw"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pipeline(tmp_path: Path, broker: str, extra: str = "") -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(
        f"app: trouble\nbroker: {broker}\nsettings: {{broker_start_timeout: 3}}\n{extra}"
        "topics:\n  a: {partitions: 1}\nagents:\n  f: {from: a, use: forward}\n"
    )
    return path


def test_broker_start_timeout_is_kept_and_reported(tmp_path: Path) -> None:
    result = cli("run", pipeline(tmp_path, f"kafka://127.0.0.1:{free_port()}"), "-d", tmp_path)
    assert result.exit_code == 1
    found = re.search(r"gave up after (\d+\.\d)s \(broker_start_timeout: 3s\)", result.stderr)
    assert found, result.stderr
    # one attempt no longer outlasts the setting (kafka-python's own bootstrap wait was 10 s)
    assert 3.0 <= float(found.group(1)) < 6.0


@pytest.mark.kafka
def test_a_sasl_mismatch_says_what_is_wrong(kafka_broker: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("T10_KAFKA_PASSWORD", SECRET)
    extra = (
        "broker_settings: {security_protocol: SASL_PLAINTEXT, sasl_mechanism: PLAIN,"
        " sasl_plain_username: u, sasl_plain_password: '${T10_KAFKA_PASSWORD}'}\n"
    )
    result = cli("run", pipeline(tmp_path, f"kafka://{kafka_broker}", extra), "-d", tmp_path)
    assert result.exit_code == 1
    assert "refused the connection" in result.stderr and "IllegalSaslStateError" in result.stderr
    assert "check security_protocol, sasl_mechanism" in result.stderr
    assert "did not answer in time" not in result.stderr
    assert "gave up after" not in result.stderr  # not retried: waiting cannot help
    assert SECRET not in result.output


@pytest.mark.parametrize(
    "url",
    [
        f"kafka://user:{SECRET}@host:9092",
        f"kafka:/user:{SECRET}@host:9092",
        f"kafka//user:{SECRET}@host",
        f"user:{SECRET}@host:9092",
        f"kafka://host:{SECRET}",
        f"kafka://host:9092,other:{SECRET}",
    ],
)
def test_a_malformed_broker_url_is_never_echoed_with_its_password(tmp_path: Path, url: str) -> None:
    for args in (["topic", "list", "-b", url], ["run", pipeline(tmp_path, url)]):
        result = cli(*args, "-d", tmp_path)
        assert result.exit_code == 2, result.output
        assert SECRET not in result.output
        assert [x for x in result.stderr.splitlines() if x.startswith("error: ")], result.stderr


def test_kafka_python_debug_logging_never_prints_the_password(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    from streamctl.transport.exceptions import BrokerUnavailable
    from streamctl.transport.kafka import KafkaTransport

    caplog.set_level(logging.DEBUG)  # an application that logs everything at DEBUG
    transport = KafkaTransport(
        f"kafka://127.0.0.1:{free_port()}",
        datadir=tmp_path,
        sasl_plain_password=SECRET,
        ssl_password=f"{SECRET}-2",
        bootstrap_timeout_ms=500,
    )
    with pytest.raises(BrokerUnavailable):  # nothing listens there; the log is the point
        _ = transport.admin
    transport.close()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Starting KafkaAdminClient with configuration" in logged
    assert "'sasl_plain_password': '***'" in logged
    assert SECRET not in logged


class _SilentBroker:
    """kafka-python's side of a transactional producer whose broker never answers: each
    transaction step hands back a request result that is never completed."""

    def __init__(self) -> None:
        from kafka.producer.transaction_manager import TransactionalRequestResult

        self.config = {"max_block_ms": 300}
        self._transaction_manager = self
        self._sender = self
        self.pending = TransactionalRequestResult
        self.woken = 0

    def wakeup(self) -> None:
        self.woken += 1

    def begin_commit(self) -> object:
        return self.pending()

    def begin_abort(self) -> object:
        return self.pending()

    def send_offsets_to_transaction(self, offsets: object, group: object) -> object:
        return self.pending()


def test_a_transaction_step_against_a_silent_broker_gives_up_after_max_block_ms() -> None:
    """kafka-python waits for a commit's answer without end (the worker hung, silent,
    through a broker outage); bounded by max_block_ms as Kafka's Java producer is, the
    worker's wait-and-resume path takes over (BrokerUnavailable)."""
    import time

    from streamctl.transport.base import TopicPartition
    from streamctl.transport.exceptions import BrokerUnavailable
    from streamctl.transport.kafka.producer import KafkaTransportProducer

    class Group:
        def group_metadata(self) -> str:
            return "g"

    client = _SilentBroker()
    producer = KafkaTransportProducer(client, "127.0.0.1:1", transactional=True)  # type: ignore[arg-type]
    for offsets in ({}, {TopicPartition("in", 0): 5}):
        began = time.monotonic()
        with pytest.raises(BrokerUnavailable, match=r"did not answer in time .*max_block_ms"):
            producer.commit_transaction(offsets, Group())  # type: ignore[arg-type]
        assert 0.3 <= time.monotonic() - began < 5
    producer.abort_transaction()  # logged, never raised: the broker aborts on its timeout
    assert client.woken == 3
