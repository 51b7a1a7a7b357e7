"""Scale-out plumbing without a broker: security settings, secrets, guarantees, hand-over."""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path
from typing import Any

import pytest
from support import streamctl_process

from streamctl.app import App
from streamctl.cli.common import Redact, parse_broker_settings
from streamctl.events import Event
from streamctl.exceptions import ConfigurationError
from streamctl.pipeline import load_pipeline
from streamctl.streams import Stream
from streamctl.transport import open_transport
from streamctl.transport.base import Message, TopicPartition
from streamctl.transport.exceptions import BadBrokerURL
from streamctl.worker import commit

SECURE = """
app: secure
broker: kafka://127.0.0.1:9
topics:
  in: {partitions: 2}
settings:
  broker_start_timeout: 2
broker_settings:
  security_protocol: SASL_PLAINTEXT
  sasl_mechanism: SCRAM-SHA-512
  sasl_plain_username: streamer
  sasl_plain_password: ${TEST_KAFKA_PASSWORD}
  bootstrap_timeout_ms: 300
agents:
  copy:
    from: in
    steps:
      - filter: "true"
"""
PASSWORD = "s3cr3t-Pa55word"


def test_security_settings_from_file_and_cli_reach_every_kafka_client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_KAFKA_PASSWORD", PASSWORD)
    monkeypatch.setenv("TEST_CA", "/etc/ca.pem")
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(SECURE)
    app = load_pipeline(pipeline, datadir=tmp_path).app
    app.conf.broker_settings.update(
        parse_broker_settings(
            ["sasl_mechanism=SCRAM-SHA-256", "ssl_cafile=${TEST_CA}", "request_timeout_ms=7000"]
        )
    )
    settings = app.transport.settings  # type: ignore[attr-defined]
    for config in (settings.producer(), settings.consumer(group_id="g"), settings.admin()):
        assert config["security_protocol"] == "SASL_PLAINTEXT"
        assert config["sasl_mechanism"] == "SCRAM-SHA-256"  # the CLI wins over the file
        assert config["sasl_plain_username"] == "streamer"
        assert config["sasl_plain_password"] == PASSWORD
        assert config["ssl_cafile"] == "/etc/ca.pem"
        assert config["request_timeout_ms"] == 7000
    assert settings.secrets() == [PASSWORD]
    assert PASSWORD not in repr(app.transport)


def test_broker_setting_needs_key_value_and_set_variables() -> None:
    with pytest.raises(ConfigurationError, match="KEY=VALUE"):
        parse_broker_settings(["acks"])
    with pytest.raises(ConfigurationError, match="NOT_SET_ANYWHERE"):
        parse_broker_settings(["sasl_plain_password=${NOT_SET_ANYWHERE}"])


def test_broker_down_at_start_retries_then_one_line_error_without_the_password(
    tmp_path: Path,
) -> None:
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(SECURE)
    proc = streamctl_process(
        "run",
        pipeline,
        "-d",
        tmp_path / "data",
        "--log-level",
        "debug",
        "-S",
        "ssl_password=${TEST_KAFKA_PASSWORD}",
        env={"TEST_KAFKA_PASSWORD": PASSWORD},
    )
    out, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert PASSWORD not in out + err
    assert "Traceback" not in err
    assert "retrying in" in err  # it did retry before giving up
    last = err.strip().splitlines()[-1]
    assert last.startswith("error:") and "127.0.0.1:9" in last
    assert "broker_start_timeout" in last


def test_redact_hides_secrets_in_log_records() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "config %s", (PASSWORD,), None)
    Redact([PASSWORD]).filter(record)
    assert record.getMessage() == "config ***"


def test_credentials_in_a_kafka_url_are_refused_without_echoing_them(tmp_path: Path) -> None:
    with pytest.raises(BadBrokerURL) as err:
        _ = App("x", broker=f"kafka://bob:{PASSWORD}@h:9092", datadir=tmp_path).transport
    assert PASSWORD not in str(err.value)


def test_tables_recovered_on_a_helper_thread_serve_the_loop_thread(tmp_path: Path) -> None:
    """The Kafka ListenerBridge recovers (and releases) on a helper thread."""
    app = App("hand", datadir=tmp_path)
    table = app.Table("t", default=int, partitions=2)
    app.ensure_topics()
    table["a"] = 1
    commit.commit_batch(table, app.producer)
    table.close()
    app.close()

    app = App("hand", datadir=tmp_path)
    table = app.Table("t", default=int, partitions=2)
    errors: list[BaseException] = []

    def on_helper(fn: Any, *args: Any) -> None:
        def run() -> None:
            try:
                fn(*args)
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
        assert not errors, errors

    # (a Kafka transport holds no SQLite; the embedded one's connection is per thread)
    on_helper(lambda: table.recover(open_transport("local://", datadir=tmp_path), {0, 1}))
    assert table["a"] == 1  # stores opened there, read here: no check_same_thread error
    table["a"] += 1
    commit.commit_batch(table, app.producer)
    on_helper(table.release, {0, 1})
    assert table._state.stores == {}
    app.close()


def test_revoked_partitions_held_events_are_dropped_uncommitted() -> None:
    stream = Stream.__new__(Stream)
    stream._held = []
    for p in (0, 1, 0):
        m = Message("in", p, 7, None, b"1", 0)
        stream._held.append(tuple.__new__(Event, (None, 1, m)))
    held = stream._held
    assert stream.drop_held({TopicPartition("in", 0)}) == 2
    assert held is stream._held and [e.message.partition for e in held] == [1]
    asyncio.run(asyncio.sleep(0))
