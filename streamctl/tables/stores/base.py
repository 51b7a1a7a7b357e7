"""The store seam: where one partition of a table keeps its bytes between runs.

A store holds already-encoded keys and values (the table's Serde did that) and
the offset of the last changelog record its contents reflect. Both change in
one transaction (:meth:`Store.apply`), so after a crash the store is either
before or after a batch, never half-way, and recovery knows where to resume.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping
from pathlib import Path


class Store(abc.ABC):
    """One partition of one table. Implementations: ``memory``, ``sqlite``."""

    #: True when the contents survive the process (recovery may skip records).
    persistent: bool = False

    def __init__(self, url: str, path: Path) -> None:
        self.url = url
        self.path = Path(path)

    @abc.abstractmethod
    def get(self, key: bytes) -> bytes | None:
        """The value stored for ``key``, or None."""

    def get_many(self, keys: list[bytes]) -> dict[bytes, bytes]:
        """The stored values of ``keys`` (absent keys left out): one query where the
        store can (a windowed table reads the windows it closes at once)."""
        out = {}
        for key in keys:
            value = self.get(key)
            if value is not None:
                out[key] = value
        return out

    @abc.abstractmethod
    def apply(self, writes: Mapping[bytes, bytes | None], offset: int | None) -> None:
        """In one transaction: put each value (None deletes the key) and record ``offset``.

        ``offset`` is the changelog offset the store reflects once these writes
        are in; None leaves the recorded offset as it was.
        """

    @abc.abstractmethod
    def items(self) -> Iterator[tuple[bytes, bytes]]:
        """Every stored (key, value) pair."""

    @abc.abstractmethod
    def persisted_offset(self) -> int | None:
        """The changelog offset of the last record applied, or None for none."""

    @abc.abstractmethod
    def reset(self) -> None:
        """Forget every key and the offset (the store is then rebuilt from offset 0)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release resources; further use is an error. Calling it twice is fine."""

    def __len__(self) -> int:
        return sum(1 for _ in self.items())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, bytes) and self.get(key) is not None

    @classmethod
    def open_read_only(cls, url: str, path: Path) -> Store:
        """A store at ``path`` for reading only: it creates, changes and deletes nothing.

        The default opens the store as usual (right for stores without files,
        like ``memory://``); file-backed stores override it. Raises StoreError
        (StoreCorrupt for an unreadable file).
        """
        return cls(url, path)

    @classmethod
    def remove(cls, url: str, path: Path) -> None:
        """Delete whatever a store left at ``path`` (used when it is corrupt).

        The default removes nothing: a store without files (``memory://``) has none.
        """
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.path}>"
