"""The dict API every table kind shares, on top of Collection's encoded reads and writes.

Every method encodes the key once (``self._codec``) and makes one read or write
through the table's state (``self._state``), calling them directly: these run
per event.
"""

from __future__ import annotations

from collections.abc import Callable, ItemsView, Iterator, KeysView, MutableMapping, ValuesView
from typing import Any

from streamctl.events import _current
from streamctl.tables.base import Collection
from streamctl.tables.changelog import _ABSENT, WriteBuffer

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

    def _incrementer(self, start: Any) -> Callable[[Any, Any], None]:
        """``fn(key, amount)``: :meth:`_increment` from ``start``, once per event for the
        ``count`` and ``sum`` steps.

        Inside a stream, on a table that takes writes in the event's partition, it runs
        inline: one key encoding, the write buffer read and written directly, and a
        finite int or float result kept decoded in the buffer, so the number is
        encoded once per key when the batch is sent rather than once per event (a hot
        key is read back without the decoder). A table that replaced ``_increment``
        (a windowed one) gets that called. Raises what ``_increment`` raises: a result
        that does not encode leaves the buffer as it was.
        """
        slow = self._increment
        if (
            type(self)._increment is not TableMapping._increment
            or "_increment" in vars(self)
            or self._read_only
            or self._placement.is_global
        ):
            return lambda key, amount: slow(key, amount, start)
        placement, codec, state = self._placement, self._codec, self._state
        buffer, get_in = state.buffer, state.get_in
        numbers, str_keys = codec.numbers, codec._str_keys
        encode_key, load_value, dump_value = codec.encode_key, codec.load_value, codec.dump_value
        partitions, get_event, buffer_class = placement.partitions, _current.get, WriteBuffer

        def increment(key: Any, amount: Any) -> None:
            event = get_event()
            if event is None or placement.use_partitioner:
                slow(key, amount, start)
                return
            partition = event[2][1]  # event.message.partition
            if partition >= partitions:
                placement.event_partition()  # raises: worded once, there
            encoded = str_keys.get(key) if key.__class__ is str else None
            if encoded is None:
                encoded = encode_key(key)
            pending = buffer.pending
            writes = pending.get(partition)
            if writes is None:
                writes = pending[partition] = {}
            current: Any
            old = writes.get(encoded, _ABSENT)
            if old.__class__ in numbers:
                current = old
            elif old is _ABSENT:
                data = get_in(partition, encoded)
                current = start if data is None else load_value(data)
            else:
                current = start if old is None else load_value(old)
            new = current + amount
            kind: Any = new.__class__
            if kind not in numbers or new - new != 0:  # not a finite number (inf - inf: nan)
                new = dump_value(new)  # raises for what does not encode: nothing written
            undo = buffer_class.undo
            if undo is not None:
                undo += (writes, encoded, old, event)  # as WriteBuffer.put records it
            writes[encoded] = new

        return increment

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
