"""An in-memory store: a dict per store path, kept for the life of the process.

A store closed (the worker stopped, ``app.run(until_idle=True)`` returned) and opened
again in the same process finds its keys and changelog offset as it left them, as a
``sqlite://`` store does, so a table read after a run has the run's data (#9). A new
process starts empty and recovery replays the changelog.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from streamctl.tables.stores.base import Store


class _Kept:
    """What one store path holds in this process."""

    __slots__ = ("data", "offset")

    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}
        self.offset: int | None = None


#: store path -> its contents, for the life of the process
_KEPT: dict[Path, _Kept] = {}


class MemoryStore(Store):
    """``memory://``: fast, lost at exit; recovery replays the whole changelog."""

    persistent = False

    def __init__(self, url: str, path: Path) -> None:
        super().__init__(url, path)
        kept = self._kept = _KEPT.setdefault(path, _Kept())
        self._data: dict[bytes, bytes] = kept.data

    def get(self, key: bytes) -> bytes | None:
        return self._data.get(key)

    def apply(self, writes: Mapping[bytes, bytes | None], offset: int | None) -> None:
        data = self._data
        for key, value in writes.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        if offset is not None:
            self._kept.offset = offset

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        return iter(list(self._data.items()))

    def persisted_offset(self) -> int | None:
        return self._kept.offset

    def reset(self) -> None:
        self._data.clear()
        self._kept.offset = None

    def close(self) -> None:
        """Nothing to release: the contents stay for the next open of this path."""

    @classmethod
    def remove(cls, url: str, path: Path) -> None:
        _KEPT.pop(path, None)

    def __len__(self) -> int:
        return len(self._data)
