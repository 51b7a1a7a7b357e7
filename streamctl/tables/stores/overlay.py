"""A store seen through an in-memory overlay: how reads catch a store up without writing it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from streamctl.tables.stores.base import Store


class Overlay(Store):
    """``base`` (opened read-only) with writes kept in memory on top of it.

    Reads outside a worker (``streamctl table get/dump``) replay the changelog
    records a store has not applied yet into an Overlay: they answer with the
    log's state and leave the store file as it was, for the next worker to
    catch up. :meth:`reset` forgets the base in memory only.
    """

    persistent = True

    def __init__(self, base: Store) -> None:
        super().__init__(base.url, base.path)
        self.base: Store | None = base
        self._writes: dict[bytes, bytes | None] = {}
        self._offset = base.persisted_offset()

    def get(self, key: bytes) -> bytes | None:
        if key in self._writes:
            return self._writes[key]
        return None if self.base is None else self.base.get(key)

    def apply(self, writes: Mapping[bytes, bytes | None], offset: int | None) -> None:
        self._writes.update(writes)
        if offset is not None:
            self._offset = offset

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        writes = self._writes
        if self.base is not None:
            for key, value in self.base.items():
                if key not in writes:
                    yield key, value
        for key, maybe in sorted(writes.items()):
            if maybe is not None:
                yield key, maybe

    def persisted_offset(self) -> int | None:
        return self._offset

    def reset(self) -> None:
        self._writes.clear()
        self._offset = None
        if self.base is not None:
            self.base.close()
            self.base = None

    def close(self) -> None:
        self._writes = {}
        if self.base is not None:
            self.base.close()
            self.base = None
