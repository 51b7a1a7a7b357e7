"""An in-memory store: a dict, rebuilt from the changelog every time it is opened."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from streamctl.tables.stores.base import Store


class MemoryStore(Store):
    """``memory://``: fast, lost at exit; recovery replays the whole changelog."""

    persistent = False

    def __init__(self, url: str, path: Path) -> None:
        super().__init__(url, path)
        self._data: dict[bytes, bytes] = {}
        self._offset: int | None = None

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
            self._offset = offset

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        return iter(list(self._data.items()))

    def persisted_offset(self) -> int | None:
        return self._offset

    def reset(self) -> None:
        self._data.clear()
        self._offset = None

    def close(self) -> None:
        self._data = {}

    def __len__(self) -> int:
        return len(self._data)
