"""``validate`` checks broker settings' values with the checks ``run`` makes when it opens
the broker (``Transport.check_setting_values``), positioned at the value (#13)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import ROOT, cli

from streamctl.cli.validate import PROBLEMS_FOUND
from streamctl.exceptions import ConfigurationError
from streamctl.transport.kafka.transport import KafkaTransport

PIPELINE = """\
app: bsv
broker: kafka://127.0.0.1:1
broker_settings:
  acks: all
  replication_factor: {rf}
  request_timeout_ms: {timeout}
  partitioner: murmur2
topics:
  bsv-in: {{}}
"""


def test_every_bad_value_is_placed_at_the_value_and_run_refuses_it(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(PIPELINE.format(rf="three", timeout="soon"))
    result = cli("validate", path)
    assert result.exit_code == PROBLEMS_FOUND
    assert result.stderr.splitlines() == [
        f"{path}:5:23: broker setting replication_factor must be a whole number of replicas "
        "(1 or more; -1: the broker's default), not 'three'",
        f"{path}:6:23: broker setting request_timeout_ms must be a number of milliseconds "
        "above 0, not 'soon'",
        f"{path}:7:16: Kafka setting partitioner: 'murmur2' is not a kafka-python Partitioner "
        "object (leave it out: records go where Kafka's default murmur2 partitioner puts them)",
    ]
    # librdkafka takes a partitioner's name; the shared Kafka checks still apply
    confluent = cli("validate", path, "-b", "kafka+confluent://127.0.0.1:1")
    assert confluent.stderr.splitlines() == result.stderr.splitlines()[:2]
    # run refuses the same file with the first of them, before it opens the broker
    data = tmp_path / "data"
    run = cli("run", path, "-d", data, "--until-idle")
    assert run.exit_code == 2
    assert run.stderr.startswith(f"error: {result.stderr.splitlines()[0]} (and 2 more")
    assert "Traceback" not in run.output
    assert not data.exists()


# a request timeout above fetch_max_wait_ms (100) and below connections_max_idle_ms
@pytest.mark.parametrize(
    "rf,timeout", [(3, 5000), (-1, 100.5), ("'2'", "'30000'"), (1, 539_999)], ids=str
)
def test_good_values_pass(tmp_path: Path, rf: object, timeout: object) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(PIPELINE.format(rf=rf, timeout=timeout).replace("  partitioner: murmur2\n", ""))
    result = cli("validate", path)
    assert (result.exit_code, result.stderr) == (0, "")


@pytest.mark.parametrize("rf", [0, -2, 2.5, "true", "null", "[3]"])
def test_a_replication_factor_that_is_no_count_is_refused(tmp_path: Path, rf: object) -> None:
    path = tmp_path / "p.yaml"
    text = PIPELINE.format(rf=rf, timeout=1000).replace("  partitioner: murmur2\n", "")
    path.write_text(text)
    result = cli("validate", path)
    assert result.exit_code == PROBLEMS_FOUND
    assert result.stderr.startswith(f"{path}:5:23: broker setting replication_factor must be")
    assert len(result.stderr.splitlines()) == 1


def test_a_value_from_the_command_line_names_the_option() -> None:
    quickstart = ROOT / "pipelines" / "quickstart.yaml"
    kafka = ("-b", "kafka://127.0.0.1:1")
    result = cli("validate", quickstart, *kafka, "-S", "bootstrap_timeout_ms=-5")
    assert (result.exit_code, result.stderr) == (
        2,
        "--broker-setting bootstrap_timeout_ms: broker setting bootstrap_timeout_ms must be "
        "a number of milliseconds above 0, not -5\n",
    )
    assert cli("validate", quickstart, *kafka, "-S", "bootstrap_timeout_ms=500").exit_code == 0


def test_the_transport_refuses_what_validate_reports() -> None:
    # one check: the constructor `run` reaches raises for the value validate reports
    reasons = KafkaTransport.check_setting_values({"replication_factor": "three"})
    with pytest.raises(ConfigurationError) as caught:
        KafkaTransport("kafka://127.0.0.1:1", replication_factor="three")
    assert str(caught.value) == reasons["replication_factor"]


def test_timeouts_written_as_text_reach_the_clients_as_numbers() -> None:
    # (review-13m) validate takes `request_timeout_ms: ${TIMEOUT}` (text once expanded);
    # run passed the text to kafka-python, whose bootstrap divided it: a TypeError traceback
    transport = KafkaTransport(
        "kafka://127.0.0.1:1", request_timeout_ms="30000", bootstrap_timeout_ms="2.5e3"
    )
    assert transport.settings.admin()["request_timeout_ms"] == 30000
    assert transport.settings.admin()["bootstrap_timeout_ms"] == 2500
    assert transport.settings.consumer()["request_timeout_ms"] == 30000


@pytest.mark.parametrize(
    "settings,name",
    [
        ({"request_timeout_ms": 10**26}, "request_timeout_ms"),  # run: exit 1 at the consumer
        ({"request_timeout_ms": 0.001}, "request_timeout_ms"),  # run: bootstrap timed out
        ({"fetch_max_wait_ms": 40_000}, "fetch_max_wait_ms"),
        ({"connections_max_idle_ms": 20_000}, "connections_max_idle_ms"),
    ],
    ids=str,
)
def test_timeouts_kafka_python_refuses_together_are_refused_by_validate(
    settings: dict[str, object], name: str
) -> None:
    # (review-13m) kafka-python's consumer wants fetch_max_wait_ms < request_timeout_ms <
    # connections_max_idle_ms; validate passed these and run failed (or hung) later
    reasons = KafkaTransport.check_setting_values(settings)
    assert list(reasons) == [name]
    assert "fetch_max_wait_ms (" in reasons[name] and "< connections_max_idle_ms (" in reasons[name]
    with pytest.raises(ConfigurationError):
        KafkaTransport("kafka://127.0.0.1:1", **settings)
    fine = {"request_timeout_ms": "30001", "connections_max_idle_ms": 600_000}
    assert KafkaTransport.check_setting_values(fine) == {}
