"""Settings for the librdkafka transport: kafka-python names translated, tuned defaults.

A pipeline's ``broker_settings`` keep working when its URL changes from ``kafka://``
to ``kafka+confluent://``: kafka-python names are translated to librdkafka's
(``session_timeout_ms`` -> ``session.timeout.ms``, ``sasl_plain_password`` ->
``sasl.password``); librdkafka's own dotted names pass through unchanged. librdkafka
checks every name when a client opens (an unknown one is a ConfigurationError).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from streamctl.redact import secret_values

#: kafka-python names whose librdkafka name is not simply "underscores become dots"
ALIASES = {
    "compression": "compression.type",
    "compression_type": "compression.type",
    "sasl_plain_username": "sasl.username",
    "sasl_plain_password": "sasl.password",
    "sasl_mechanism": "sasl.mechanism",
    "ssl_cafile": "ssl.ca.location",
    "ssl_certfile": "ssl.certificate.location",
    "ssl_keyfile": "ssl.key.location",
    "ssl_password": "ssl.key.password",
    "fetch_max_wait_ms": "fetch.wait.max.ms",
    "delivery_timeout_ms": "message.timeout.ms",
    "check_crcs": "check.crcs",
}
#: kafka-python settings with no librdkafka meaning (librdkafka sizes polls per call,
#: connects lazily and never blocks a send on metadata)
IGNORED = frozenset({"max_poll_records", "max_block_ms", "api_version", "bootstrap_timeout_ms"})

COMMON_DEFAULTS: dict[str, Any] = {"client.id": "streamctl"}
PRODUCER_DEFAULTS: dict[str, Any] = {
    "acks": "all",
    "linger.ms": 5,
    "enable.idempotence": True,  # retries keep per-partition order, as kafka-python's
    # Kafka's Java partitioner (murmur2 of the key), not librdkafka's CRC32 default
    "partitioner": "murmur2_random",
    "transaction.timeout.ms": 10_000,  # as the kafka transport (Kafka Streams: 10 s)
    "request.timeout.ms": 30_000,
}
CONSUMER_DEFAULTS: dict[str, Any] = {
    "auto.offset.reset": "earliest",
    "session.timeout.ms": 10_000,
    "heartbeat.interval.ms": 3_000,
    "fetch.wait.max.ms": 100,
    "fetch.max.bytes": 50 * 1024 * 1024,
    "max.partition.fetch.bytes": 4 * 1024 * 1024,
    "allow.auto.create.topics": False,
    # kafka-python's defaults: read uncommitted unless exactly-once asks, CRCs checked
    "isolation.level": "read_uncommitted",
    "check.crcs": True,
}
#: the engine owns these: it commits explicitly, offsets and all
FORCED_CONSUMER = {"enable.auto.commit": False, "enable.auto.offset.store": False}

_CONSUMER_ONLY = frozenset(CONSUMER_DEFAULTS) | {
    "group.id",
    "group.instance.id",
    "max.poll.interval.ms",
    "partition.assignment.strategy",
    "enable.partition.eof",
    "fetch.min.bytes",
    "fetch.error.backoff.ms",
    "queued.min.messages",
    "queued.max.messages.kbytes",
}
_PRODUCER_ONLY = frozenset(PRODUCER_DEFAULTS) | {
    "transactional.id",
    "message.timeout.ms",
    "compression.type",
    "batch.size",
    "batch.num.messages",
    "queue.buffering.max.messages",
    "queue.buffering.max.kbytes",
    "retries",
    "message.send.max.retries",
}


def librdkafka_name(name: str) -> str | None:
    """The librdkafka property for a streamctl/kafka-python setting name; None to drop it."""
    if "." in name:
        return name
    if name in IGNORED:
        return None
    return ALIASES.get(name, name.replace("_", "."))


class ConfluentSettings:
    """User settings over the defaults, as librdkafka configuration dicts per client."""

    def __init__(self, servers: list[str], settings: Mapping[str, Any]) -> None:
        self.servers = servers
        self.request_timeout = float(settings.get("request_timeout_ms", 30_000)) / 1000
        self.bootstrap_timeout = float(settings.get("bootstrap_timeout_ms", 10_000)) / 1000
        user = {}
        for key, value in settings.items():
            name = librdkafka_name(str(key))
            if name is not None:
                user[name] = value
        merged = {**COMMON_DEFAULTS, **PRODUCER_DEFAULTS, **CONSUMER_DEFAULTS, **user}
        merged["bootstrap.servers"] = ",".join(servers)
        self._merged = merged

    @property
    def bootstrap(self) -> str:
        return ",".join(self.servers)

    def producer(self, **extra: Any) -> dict[str, Any]:
        return {**{k: v for k, v in self._merged.items() if k not in _CONSUMER_ONLY}, **extra}

    def consumer(self, **extra: Any) -> dict[str, Any]:
        config = {k: v for k, v in self._merged.items() if k not in _PRODUCER_ONLY}
        return {**config, **FORCED_CONSUMER, **extra}

    def admin(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in self._merged.items()
            if k not in _CONSUMER_ONLY and k not in _PRODUCER_ONLY
        }

    @property
    def isolation_level(self) -> str:
        return str(self._merged["isolation.level"])

    def secrets(self) -> list[str]:
        """The secret values among the settings (for log redaction)."""
        return secret_values(self._merged)
