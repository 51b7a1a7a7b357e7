"""Errors raised by tables and their stores."""

from streamctl.exceptions import StreamctlError


class TableError(StreamctlError):
    """A table operation failed (changelog, recovery or commit)."""


class StoreError(TableError):
    """A store could not read or write its data."""


class StoreDirUnusable(StoreError):
    """A store's folder (under the data dir) cannot be created: bad input (exit 2)."""

    exit_code = 2


class StoreCorrupt(StoreError):
    """A store file exists but cannot be read; it must be rebuilt from the changelog."""


class RecoveryStalled(TableError):
    """A changelog stopped returning records before reaching its high-water mark."""


class StoreAheadOfLog(TableError):
    """A store says it applied changelog records the changelog does not have.

    Its log was deleted, emptied or replaced after the store was written. The
    store is refused, never wiped: which of the two is right is the user's call.
    """


def restore_advice(broker: str) -> str:
    """How to get back the log a store ahead of its changelog goes with, on ``broker``
    (a URL): the embedded broker's file, or the Kafka topic's records."""
    if broker.startswith("local:"):
        return "restore the log (broker.db) that goes with these stores"
    if broker.startswith("kafka"):
        return (
            "restore the changelog topic's records that go with these stores (from a "
            "backup or a mirror of the cluster)"
        )
    return "restore the changelog that goes with these stores"
