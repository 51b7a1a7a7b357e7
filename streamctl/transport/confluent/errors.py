"""Translate confluent-kafka (librdkafka) errors into streamctl's transport exceptions.

The same classification as the kafka-python transport (``transport/kafka/errors.py``):
a broker that cannot be reached or is not ready is BrokerUnavailable (the worker
waits and retries), a refused offset commit after a rebalance is CommitFailed, a
fenced or broker-aborted transaction is TransactionFailed, a refused security
setting is BrokerRefused (retrying cannot help).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from confluent_kafka import KafkaError, KafkaException

from streamctl.exceptions import ConfigurationError
from streamctl.transport.exceptions import (
    BrokerRefused,
    BrokerUnavailable,
    CommitFailed,
    TransactionFailed,
    TransportError,
    UnknownTopic,
)

UNREACHABLE = frozenset(
    {
        KafkaError._TRANSPORT,
        KafkaError._ALL_BROKERS_DOWN,
        KafkaError._TIMED_OUT,
        KafkaError._MSG_TIMED_OUT,
        KafkaError._RESOLVE,
        KafkaError._WAIT_COORD,
        KafkaError.REQUEST_TIMED_OUT,
        KafkaError.NETWORK_EXCEPTION,
        KafkaError.NOT_COORDINATOR,
        KafkaError.COORDINATOR_NOT_AVAILABLE,
        KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
        KafkaError.LEADER_NOT_AVAILABLE,
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError.FENCED_LEADER_EPOCH,  # a restarted broker's partitions: metadata is stale
        KafkaError.UNKNOWN_LEADER_EPOCH,
    }
)
UNKNOWN_TOPIC = frozenset(
    {KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC, KafkaError._UNKNOWN_PARTITION}
)
REBALANCED = frozenset(
    {
        KafkaError.REBALANCE_IN_PROGRESS,
        KafkaError.ILLEGAL_GENERATION,
        KafkaError.UNKNOWN_MEMBER_ID,
        KafkaError.FENCED_INSTANCE_ID,
    }
)
FENCED = frozenset(
    {KafkaError.PRODUCER_FENCED, KafkaError.INVALID_PRODUCER_EPOCH, KafkaError._FENCED}
)
REFUSED = frozenset(
    {
        KafkaError._AUTHENTICATION,
        KafkaError._SSL,
        KafkaError.SASL_AUTHENTICATION_FAILED,
        KafkaError.UNSUPPORTED_SASL_MECHANISM,
        KafkaError.ILLEGAL_SASL_STATE,
    }
)


def error_of(err: KafkaError, what: str, bootstrap: str) -> TransportError:
    """The streamctl exception for librdkafka's ``err`` met while doing ``what``."""
    code, text = err.code(), err.str()
    if code in REFUSED:
        return BrokerRefused(
            f"{what}: Kafka at {bootstrap} refused the connection: {text}; check "
            "security_protocol, sasl_mechanism and the credentials in broker_settings "
            "against the broker's listener"
        )
    if code in UNKNOWN_TOPIC:
        return UnknownTopic(f"{what}: unknown topic or partition on Kafka at {bootstrap}")
    if code in REBALANCED:
        return CommitFailed(
            f"{what}: Kafka at {bootstrap} refused the offsets: the group rebalanced"
        )
    if code in FENCED or err.fatal() or err.txn_requires_abort():
        return TransactionFailed(
            f"{what}: Kafka at {bootstrap} aborted the transaction ({text}): fenced by "
            "another worker with this transactional id, or the broker's timeout passed"
        )
    if code in UNREACHABLE or err.retriable():
        return BrokerUnavailable(f"{what}: cannot reach Kafka at {bootstrap} ({text})")
    return TransportError(f"{what}: Kafka at {bootstrap} failed: {text}")


@contextmanager
def translate(bootstrap: str, what: str) -> Iterator[None]:
    """Re-raise confluent-kafka errors met while doing ``what`` as streamctl errors.

    Messages name the bootstrap servers and the operation, never settings (so never
    a password). An unknown or bad librdkafka property is a ConfigurationError.
    """
    try:
        yield
    except KafkaException as exc:
        err = exc.args[0] if exc.args and isinstance(exc.args[0], KafkaError) else None
        if err is None:
            raise TransportError(f"{what}: Kafka at {bootstrap} failed: {exc}") from exc
        if err.code() == KafkaError._INVALID_ARG and "configur" in err.str().lower():
            raise ConfigurationError(f"Kafka setting refused by librdkafka: {err.str()}") from exc
        raise error_of(err, what, bootstrap) from exc
