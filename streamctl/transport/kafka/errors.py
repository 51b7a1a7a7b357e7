"""Translate kafka-python errors into streamctl's transport exceptions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from kafka import errors as kerrors

from streamctl.transport.exceptions import (
    BrokerUnavailable,
    CommitFailed,
    TransactionFailed,
    TransportError,
    UnknownTopic,
)


@contextmanager
def translate(bootstrap: str, what: str) -> Iterator[None]:
    """Re-raise kafka-python errors met while doing ``what`` as streamctl errors.

    Messages name the bootstrap servers and the operation, never settings (so
    never a password).
    """
    try:
        yield
    except kerrors.UnknownTopicOrPartitionError as exc:
        raise UnknownTopic(f"{what}: unknown topic or partition on Kafka at {bootstrap}") from exc
    except kerrors.KafkaConnectionError as exc:
        raise BrokerUnavailable(f"{what}: cannot reach Kafka at {bootstrap}") from exc
    except kerrors.KafkaTimeoutError as exc:
        raise BrokerUnavailable(
            f"{what}: Kafka at {bootstrap} did not answer in time ({exc})"
        ) from exc
    except kerrors.CommitFailedError as exc:
        raise CommitFailed(
            f"{what}: Kafka at {bootstrap} refused the offsets: the group rebalanced"
        ) from exc
    except (kerrors.ProducerFencedError, kerrors.InvalidProducerEpochError) as exc:
        raise TransactionFailed(
            f"{what}: fenced by Kafka at {bootstrap}: the broker aborted the transaction "
            "(its timeout passed) or another worker uses this transactional id (give "
            "each worker its own datadir or worker_id)"
        ) from exc
    except kerrors.KafkaError as exc:
        if getattr(exc, "retriable", False):  # e.g. NodeNotReadyError after a restart
            raise BrokerUnavailable(f"{what}: Kafka at {bootstrap} is not ready ({exc})") from exc
        raise TransportError(f"{what}: Kafka at {bootstrap} failed: {exc}") from exc
