"""Settings for the Kafka transport: URL parsing, tuned defaults, routing to clients."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

from streamctl.exceptions import ConfigurationError
from streamctl.redact import secret_values
from streamctl.transport.kafkashared import finite_number
from streamctl.transport.servers import parse_servers

# Defaults tuned for a stream processor: explicit commits only, start at the
# earliest record of a new group, big fetches, short linger, durable acks.
COMMON_DEFAULTS: dict[str, Any] = {
    "client_id": "streamctl",
    "request_timeout_ms": 30_000,
    "bootstrap_timeout_ms": 10_000,
    # Kafka's Java clients' reconnect.backoff.max.ms (kafka-python's is 30 s): after an
    # outage every client is back within a second of the broker, not up to 30 s later,
    # each on its own clock (the group back, the fetcher or admin client still waiting)
    "reconnect_backoff_max_ms": 1_000,
}
PRODUCER_DEFAULTS: dict[str, Any] = {
    "acks": "all",
    "linger_ms": 5,
    "batch_size": 256 * 1024,
    "max_block_ms": 10_000,
    "compression_type": None,
    # exactly-once only: a dead worker's open transaction blocks read_committed readers
    # of its partitions until Kafka aborts it; one batch takes far less (Kafka Streams: 10 s)
    "transaction_timeout_ms": 10_000,
}
CONSUMER_DEFAULTS: dict[str, Any] = {
    "enable_auto_commit": False,
    "auto_offset_reset": "earliest",
    "max_poll_records": 1000,
    "fetch_max_bytes": 50 * 1024 * 1024,
    "max_partition_fetch_bytes": 4 * 1024 * 1024,
    "fetch_max_wait_ms": 100,
    "session_timeout_ms": 10_000,
    "heartbeat_interval_ms": 3_000,
    "allow_auto_create_topics": False,
}
# Settings whose streamctl name differs from kafka-python's.
ALIASES = {"compression": "compression_type"}
# Settings the engine owns; a user value would break its offset bookkeeping.
FORCED = {"enable_auto_commit": False}

_PRODUCER_KEYS = frozenset(KafkaProducer.DEFAULT_CONFIG)
_CONSUMER_KEYS = frozenset(KafkaConsumer.DEFAULT_CONFIG)
_ADMIN_KEYS = frozenset(KafkaAdminClient.DEFAULT_CONFIG)
#: every setting name KafkaSettings accepts
SETTING_NAMES = _PRODUCER_KEYS | _CONSUMER_KEYS | _ADMIN_KEYS | frozenset(ALIASES)


def parse_url(url: str) -> list[str]:
    """``kafka://h1:9092,h2:9092`` -> ``["h1:9092", "h2:9092"]``."""
    return parse_servers(url, "kafka")


def refused_values(settings: Mapping[str, Any]) -> dict[str, str]:
    """Setting name -> why kafka-python cannot take its value (one line): a
    ``partitioner`` written in a pipeline file, where kafka-python wants an object."""
    out: dict[str, str] = {}
    partitioner = settings.get("partitioner")
    if isinstance(partitioner, (str, bytes, int, float, list, dict)):
        # kafka-python calls partitioner.partition(...) per record: a value from a
        # pipeline file (str has a .partition too) fails at the first send
        out["partitioner"] = (
            f"Kafka setting partitioner: {partitioner!r} is not a kafka-python "
            "Partitioner object (leave it out: records go where Kafka's default "
            "murmur2 partitioner puts them)"
        )
    # kafka-python's consumer refuses to start unless fetch_max_wait_ms <
    # request_timeout_ms < connections_max_idle_ms (the defaults included)
    order = ("fetch_max_wait_ms", "request_timeout_ms", "connections_max_idle_ms")
    defaults = {**KafkaConsumer.DEFAULT_CONFIG, **COMMON_DEFAULTS, **CONSUMER_DEFAULTS}
    values = {name: finite_number(settings.get(name, defaults[name])) for name in order}
    low, mid, high = (values[name] for name in order)
    given = [name for name in ("request_timeout_ms", *order[::2]) if name in settings]
    if (
        given
        and low is not None
        and mid is not None
        and high is not None
        and not (low < mid < high)
    ):
        out.setdefault(
            given[0],
            f"Kafka setting {given[0]}: kafka-python wants fetch_max_wait_ms ({low:g}) < "
            f"request_timeout_ms ({mid:g}) < connections_max_idle_ms ({high:g})",
        )
    return out


class KafkaSettings:
    """User settings merged over the defaults, split per kafka-python client.

    Any kafka-python producer, consumer or admin option may be given by its
    kafka-python name; each client receives the options it understands.
    """

    def __init__(self, servers: list[str], settings: Mapping[str, Any]) -> None:
        self.servers = servers
        user = {ALIASES.get(k, k): v for k, v in settings.items()}
        unknown = sorted(set(user) - _PRODUCER_KEYS - _CONSUMER_KEYS - _ADMIN_KEYS)
        if unknown:
            raise ConfigurationError(f"unknown Kafka setting(s): {', '.join(unknown)}")
        for reason in refused_values(user).values():
            raise ConfigurationError(reason)
        merged = {**COMMON_DEFAULTS, **PRODUCER_DEFAULTS, **CONSUMER_DEFAULTS, **user, **FORCED}
        merged["bootstrap_servers"] = servers
        self._merged = merged

    def _for(self, keys: frozenset[str], **extra: Any) -> dict[str, Any]:
        config = {k: v for k, v in self._merged.items() if k in keys}
        config.update(extra)
        return config

    def producer(self, **extra: Any) -> dict[str, Any]:
        return self._for(_PRODUCER_KEYS, **extra)

    def consumer(self, **extra: Any) -> dict[str, Any]:
        return self._for(_CONSUMER_KEYS, **extra)

    def admin(self) -> dict[str, Any]:
        return self._for(_ADMIN_KEYS)

    def secrets(self) -> list[str]:
        """The secret values among the settings (for log redaction)."""
        return secret_values(self._merged)

    @property
    def bootstrap(self) -> str:
        return ",".join(self.servers)
