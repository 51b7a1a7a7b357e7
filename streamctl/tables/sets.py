"""SetTable and SetGlobalTable: a set of members per key.

The changelog carries the whole set of a key (a JSON list, coalesced per
batch like any table write), so a replica rebuilds each set exactly; an
empty set is a deletion (tombstone).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableSet
from typing import Any, ClassVar

from streamctl.tables.base import AppLike, TopicLike
from streamctl.tables.codec import SetCodec, TableCodec
from streamctl.tables.globaltable import GlobalTable
from streamctl.tables.mapping import TableMapping


class SetView(MutableSet[Any]):
    """``table[key]``: a live view of one key's set; ``add``/``discard`` go to the table."""

    __slots__ = ("_table", "_key")

    def __init__(self, table: SetTable, key: Any) -> None:
        self._table = table
        self._key = key

    @classmethod
    def _from_iterable(cls, it: Iterable[Any]) -> set[Any]:
        return set(it)

    def __contains__(self, value: object) -> bool:
        return value in self._table._members(self._key)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._table._members(self._key))

    def __len__(self) -> int:
        return len(self._table._members(self._key))

    def add(self, value: Any) -> None:
        self._table.add(self._key, value)

    def discard(self, value: Any) -> None:
        self._table.discard(self._key, value)

    def __repr__(self) -> str:
        return f"SetView({self._key!r}: {sorted(self._table._members(self._key), key=repr)!r})"


class SetTable(TableMapping):
    """A table of sets: ``add(key, member)``, ``discard``, ``remove``, ``(key, member) in t``.

    ``table[key]`` is a live :class:`SetView` (empty for a missing key), so
    Faust-style ``table[key].add(member)`` works too. ``key in table`` tests for
    a non-empty set at ``key``; a 2-tuple tests membership instead, so tuple
    keys must use ``table.get(key)`` or ``key in table.keys()``.
    """

    _codec_class: ClassVar[type[TableCodec]] = SetCodec

    def __init__(
        self,
        app: AppLike,
        *,
        name: str,
        key_type: Any = None,
        value_type: Any = None,
        partitions: int | None = None,
        changelog_topic: TopicLike | None = None,
        help: str | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.pop("default", None)  # a SetTable's default is always the empty set
        super().__init__(
            app,
            name=name,
            default=set,
            key_type=key_type,
            value_type=value_type,
            partitions=partitions,
            changelog_topic=changelog_topic,
            help=help,
            **kwargs,
        )

    # -- one key's members (encoded by SetCodec: the whole set as a list) -------------

    def _members(self, key: Any) -> set[Any]:
        data = self._state.lookup(self._codec.encode_key(key))
        if data is None:
            return set()
        members: set[Any] = self._codec.load_value(data)  # SetCodec.load_value: a new set
        return members

    def _store_members(self, key: Any, members: set[Any]) -> None:
        self._state.write(
            self._codec.encode_key(key), self._codec.dump_value(members) if members else None
        )

    def _check_writable(self) -> None:
        if self._read_only:
            raise NotImplementedError(f"{type(self).__name__} {self.name!r} is read-only")

    # -- the spec ----------------------------------------------------------------------

    def __getitem__(self, key: Any) -> SetView:
        self._codec.encode_key(key)  # reject None keys now, not on first use
        return SetView(self, key)

    def __setitem__(self, key: Any, members: Any) -> None:
        """Replace the set at ``key`` (an empty iterable deletes the key)."""
        self._check_writable()
        new = set(members)
        if new or key in self.keys():
            self._store_members(key, new)

    def __contains__(self, item: object) -> bool:
        if isinstance(item, tuple) and len(item) == 2:
            key, member = item
            return key is not None and member in self._members(key)
        return super().__contains__(item)

    def add(self, key: Any, value: Any) -> None:
        """Add ``value`` to the set at ``key``."""
        self._check_writable()
        members = self._members(key)
        if value not in members:
            members.add(value)
            self._store_members(key, members)

    def discard(self, key: Any, value: Any) -> None:
        """Remove ``value`` from the set at ``key`` if it is there."""
        self._check_writable()
        members = self._members(key)
        if value in members:
            members.discard(value)
            self._store_members(key, members)

    def remove(self, key: Any, value: Any) -> None:
        """Remove ``value`` from the set at ``key``; KeyError if it is not there."""
        self._check_writable()
        members = self._members(key)
        if value not in members:
            raise KeyError(value)
        members.discard(value)
        self._store_members(key, members)

    def intersection(self, key: Any, *others: Iterable[Any]) -> set[Any]:
        """The members at ``key`` that are also in every one of ``others``."""
        return self._members(key).intersection(*others)

    def union(self, key: Any, *others: Iterable[Any]) -> set[Any]:
        """The members at ``key`` together with those of ``others``."""
        return self._members(key).union(*others)


class SetGlobalTable(SetTable, GlobalTable):
    """A read-only SetTable replicated in full to every worker."""
