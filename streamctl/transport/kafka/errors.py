"""Translate kafka-python errors into streamctl's transport exceptions."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

from kafka import errors as kerrors

from streamctl.exceptions import StreamctlError
from streamctl.transport.exceptions import (
    BrokerRefused,
    BrokerUnavailable,
    CommitFailed,
    TransactionFailed,
    TransportError,
    UnknownTopic,
)

#: kafka-python's log lines that say why a connection was refused, not merely lost
_REFUSAL = re.compile(r"sasl|ssl|authenticat|handshake|unsupported|security", re.I)


class _Refusals(logging.Handler):
    """Keeps kafka-python's last connection-refusal line (it logs the cause, then its
    bootstrap times out with a generic "Unable to bootstrap")."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.last: tuple[float, str] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if _REFUSAL.search(message):
            # "<KafkaConnection node_id=... host=...>: SaslHandshake failed: ..." -> the cause
            cause = re.sub(r"\s*\(backoff [^)]*\)", "", message.rsplit(">: ", 1)[-1])
            self.last = (time.monotonic(), cause)

    def since(self, began: float) -> str | None:
        last = self.last
        return last[1] if last is not None and last[0] >= began else None


REFUSALS = _Refusals()


def watch_refusals() -> None:
    """Record kafka-python's connection refusals (idempotent; emits nothing itself)."""
    logger = logging.getLogger("kafka")
    if REFUSALS not in logger.handlers:
        logger.addHandler(REFUSALS)


def _unreachable(what: str, bootstrap: str, began: float, exc: Exception) -> TransportError:
    refused = REFUSALS.since(began)
    if refused is not None:
        return BrokerRefused(
            f"{what}: Kafka at {bootstrap} refused the connection: {refused}; check "
            "security_protocol, sasl_mechanism and the credentials in broker_settings "
            "against the broker's listener"
        )
    if isinstance(exc, kerrors.KafkaTimeoutError):
        return BrokerUnavailable(f"{what}: Kafka at {bootstrap} did not answer in time ({exc})")
    return BrokerUnavailable(f"{what}: cannot reach Kafka at {bootstrap}")


@contextmanager
def translate(bootstrap: str, what: str) -> Iterator[None]:
    """Re-raise kafka-python errors met while doing ``what`` as streamctl errors.

    Messages name the bootstrap servers and the operation, never settings (so
    never a password). A connection that the broker refused for its security
    settings is BrokerRefused (with kafka-python's reason), not BrokerUnavailable.
    """
    began = time.monotonic()
    try:
        yield
    except kerrors.UnknownTopicOrPartitionError as exc:
        raise UnknownTopic(f"{what}: unknown topic or partition on Kafka at {bootstrap}") from exc
    except (kerrors.KafkaConnectionError, kerrors.KafkaTimeoutError) as exc:
        raise _unreachable(what, bootstrap, began, exc) from exc
    except (
        kerrors.CommitFailedError,
        # an offset commit while the group rebalances, or from a member it has dropped:
        # the same outcome for the worker (the next owner processes the batch again)
        kerrors.RebalanceInProgressError,
        kerrors.IllegalGenerationError,
        kerrors.UnknownMemberIdError,
    ) as exc:
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
        cause = exc.__cause__
        if isinstance(cause, StreamctlError):
            # kafka-python wraps what a rebalance listener raised ("User rebalance callback
            # throws an error"): the worker's own error (a store ahead of its changelog, a
            # recovery that stalled, the broker gone while recovering) is the one to tell
            raise cause from cause.__cause__
        if getattr(exc, "retriable", False):  # e.g. NodeNotReadyError after a restart
            raise BrokerUnavailable(f"{what}: Kafka at {bootstrap} is not ready ({exc})") from exc
        raise TransportError(f"{what}: Kafka at {bootstrap} failed: {exc}") from exc
