"""The dict API every table kind shares, on top of Collection's encoded reads and writes.

Every method encodes the key once (``self._codec``) and makes one read or write
through the table's state (``self._state``), calling them directly: these run
per event.
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterator, KeysView, MutableMapping, ValuesView
from typing import Any

from streamctl.tables.base import Collection

_NOTHING: Any = object()


class _Keys(KeysView[Any]):
    _mapping: TableMapping

    def __iter__(self) -> Iterator[Any]:
        return self._mapping._iter_keys()


class _Values(ValuesView[Any]):
    _mapping: TableMapping

    def __iter__(self) -> Iterator[Any]:
        return self._mapping._iter_values()


class _Items(ItemsView[Any, Any]):
    _mapping: TableMapping

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        return self._mapping._iter_items()

    def __contains__(self, item: object) -> bool:
        if not isinstance(item, tuple) or len(item) != 2:
            return False
        value = self._mapping.get(item[0], _NOTHING)
        return value is not _NOTHING and (value is item[1] or value == item[1])


class TableMapping(Collection, MutableMapping[Any, Any]):
    """A Collection that behaves like a dict. Equality and hashing are by identity."""

    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def as_ansitable(self, **kwargs: Any) -> str:
        """The items as a text table: Faust's ``as_ansitable(key=, value=, title=,
        sort=, sortkey=)`` (see :func:`streamctl.tables.ansitable.ansitable`)."""
        from streamctl.tables.ansitable import ansitable

        return ansitable(list(self.items()), **kwargs)

    def __getitem__(self, key: Any) -> Any:
        data = self._state.lookup(self._codec.encode_key(key))
        if data is None:
            return self.__missing__(key)
        return self._codec.load_value(data)

    def __missing__(self, key: Any) -> Any:
        raise KeyError(key)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._state.write(self._codec.encode_key(key), self._codec.dump_value(value))

    def _increment(self, key: Any, amount: Any, start: Any) -> None:
        """``table[key] = table.get(key, start) + amount`` with one key encoding and one
        partition lookup: the ``count``/``add`` steps run this once per event."""
        partition = self._placement.event_partition()
        if partition is None or self._read_only:
            current = self.get(key)
            self[key] = (start if current is None else current) + amount
            return
        encoded = self._codec.encode_key(key)
        data = self._state.get_in(partition, encoded)
        current = start if data is None else self._codec.load_value(data)
        self._state.buffer.put(partition, encoded, self._codec.dump_value(current + amount))

    def __delitem__(self, key: Any) -> None:
        encoded = self._codec.encode_key(key)
        if self._state.lookup(encoded) is None:
            raise KeyError(key)
        self._state.write(encoded, None)

    def __contains__(self, key: object) -> bool:
        if key is None:
            return False
        return self._state.lookup(self._codec.encode_key(key)) is not None

    def __iter__(self) -> Iterator[Any]:
        return iter(self.keys())

    def __len__(self) -> int:
        return sum(1 for _ in self._state.iter_raw())

    def get(self, key: Any, default: Any = None) -> Any:
        """The value for ``key``, or ``default`` (the table's default factory is not used)."""
        data = None if key is None else self._state.lookup(self._codec.encode_key(key))
        return default if data is None else self._codec.load_value(data)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        data = self._state.lookup(self._codec.encode_key(key))
        if data is not None:
            return self._codec.load_value(data)
        self[key] = default
        return default

    def pop(self, key: Any, *default: Any) -> Any:
        if len(default) > 1:
            raise TypeError(f"pop expected at most 2 arguments, got {1 + len(default)}")
        encoded = self._codec.encode_key(key)
        data = self._state.lookup(encoded)
        if data is None:
            if default:
                return default[0]
            raise KeyError(key)
        self._state.write(encoded, None)
        return self._codec.load_value(data)

    def clear(self) -> None:
        """Delete every key (one tombstone per key in the changelog)."""
        self._state.clear()

    def keys(self) -> KeysView[Any]:
        return _Keys(self)

    def values(self) -> ValuesView[Any]:
        return _Values(self)

    def items(self) -> ItemsView[Any, Any]:
        return _Items(self)

    def _iter_keys(self) -> Iterator[Any]:
        decode = self._codec.decode_key
        for _, key, _ in self._state.iter_raw():
            yield decode(key)

    def _iter_values(self) -> Iterator[Any]:
        load = self._codec.load_value
        for _, _, value in self._state.iter_raw():
            yield load(value)

    def _iter_items(self) -> Iterator[tuple[Any, Any]]:
        decode, load = self._codec.decode_key, self._codec.load_value
        for _, key, value in self._state.iter_raw():
            yield decode(key), load(value)

    def copy(self) -> dict[Any, Any]:
        """A plain dict of the current contents (buffered writes included)."""
        return dict(self.items())
