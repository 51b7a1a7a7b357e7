"""Errors raised by transports."""

from streamctl.exceptions import ConfigurationError, StreamctlError


class TransportError(StreamctlError):
    """The broker failed or refused an operation."""


class BrokerUnavailable(TransportError):
    """The broker cannot be reached (yet); callers may retry."""


class BrokerRefused(TransportError):
    """The broker answered but refused the client's security settings (SASL, SSL,
    credentials): retrying cannot help, so the worker does not wait for it."""


class BadDatadir(TransportError):
    """The data dir given cannot be created, read or written: bad input (exit 2)."""

    exit_code = 2


class UnknownTopic(TransportError):
    """A topic was used that the broker does not have."""


class BadBrokerURL(ConfigurationError):
    """The broker URL has an unknown scheme or is malformed."""


class CommitFailed(TransportError):
    """Offsets were not committed because the group rebalanced (the batch is replayed)."""


class GroupNotEmpty(TransportError):
    """A consumer group's offsets were not changed: it has live members."""


class TransactionFailed(TransportError):
    """A transaction could not commit and was (or will be) aborted: the producer was
    fenced, or the broker aborted it (on its timeout, e.g. through an outage). Its batch
    is processed again from the committed offsets by a new transactional producer."""
