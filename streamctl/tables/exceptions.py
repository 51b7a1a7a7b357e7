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
