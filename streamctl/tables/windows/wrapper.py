"""Faust's windowed-table wrapper: ``WindowWrapper``, ``WindowSet`` and the windowed views.

``wrapper[key]`` is a :class:`WindowSet`: the windows of ``key``. Its ``current()``,
``now()``, ``value()`` and ``delta()`` pick one window; in-place operators
(``wrapper[key] += 1``) update every window the event's time falls in. Time relativity
(``relative_to_now/stream/field/relative_to``) chooses the time ``value()`` and the
in-place operators use; by default the event's time (the table's time field, else the
record timestamp). Names, signatures and results follow Faust's
``faust/tables/wrappers.py``; ``key_index=True`` (needed for ``keys()``, ``items()``,
``values()`` and ``len()``) reads the distinct keys from the table itself instead of a
second ``-key_index`` table.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from streamctl.events import Event, current_event
from streamctl.tables.exceptions import TableError
from streamctl.tables.windows.eventtime import checked
from streamctl.tables.windows.ranges import want_seconds

RelativeHandler = Callable[[Any], Any]


class WindowSet:
    """The windows of one key of a windowed table (Faust's ``WindowSet``)."""

    def __init__(self, key: Any, table: Any, wrapper: WindowWrapper, event: Any = None) -> None:
        self.key = key
        self.table = table
        self.wrapper = wrapper
        self.event = event

    def apply(self, op: Callable[[Any, Any], Any], value: Any, event: Any = None) -> WindowSet:
        """``op(window value, value)`` into every window of the event's time."""
        timestamp = self.wrapper.get_timestamp(event or self.event)
        self.table._apply_window_op(op, self.key, value, timestamp)
        return self

    def value(self, event: Any = None) -> Any:
        """The value of the window chosen by the wrapper's time relativity."""
        timestamp = self.wrapper.get_timestamp(event or self.event)
        return self.table._windowed_timestamp(self.key, timestamp)

    def now(self) -> Any:
        """The value of the earliest window holding the partition's stream time (outside a
        stream: the wall clock)."""
        return self.table._windowed_now(self.key)

    def current(self, event: Any = None) -> Any:
        """The value of the latest window holding the event's time."""
        table = self.table
        return table._windowed_timestamp(self.key, table._relative_event(event or self.event))

    def delta(self, d: Any, event: Any = None) -> Any:
        """The value of the window current ``d`` seconds (or timedelta) before the event."""
        return self.table._windowed_delta(self.key, d, event or self.event)

    def _unsupported(self, what: str) -> Any:
        raise NotImplementedError(
            f"Accessing {what} on a WindowSet is not implemented. "
            "Try using the underlying table directly"
        )

    def keys(self) -> Any:
        return self._unsupported("keys")

    def items(self) -> Any:
        return self._unsupported("items")

    def values(self) -> Any:
        return self._unsupported("values")

    def __getitem__(self, w: Any) -> Any:
        if isinstance(w, Event):
            return type(self)(self.key, self.table, self.wrapper, w)
        return self.table[self.key, w]

    def __setitem__(self, w: Any, value: Any) -> None:
        if isinstance(w, Event):
            raise NotImplementedError("Cannot set WindowSet key, when key is an event")
        self.table[self.key, w] = value

    def __delitem__(self, w: Any) -> None:
        if isinstance(w, Event):
            raise NotImplementedError("Cannot delete WindowSet key, when key is an event")
        del self.table[self.key, w]

    def __iadd__(self, other: Any) -> WindowSet:
        return self.apply(operator.add, other)

    def __isub__(self, other: Any) -> WindowSet:
        return self.apply(operator.sub, other)

    def __imul__(self, other: Any) -> WindowSet:
        return self.apply(operator.mul, other)

    def __itruediv__(self, other: Any) -> WindowSet:
        return self.apply(operator.truediv, other)

    def __ifloordiv__(self, other: Any) -> WindowSet:
        return self.apply(operator.floordiv, other)

    def __imod__(self, other: Any) -> WindowSet:
        return self.apply(operator.mod, other)

    def __ipow__(self, other: Any) -> WindowSet:
        return self.apply(operator.pow, other)

    def __ilshift__(self, other: Any) -> WindowSet:
        return self.apply(operator.lshift, other)

    def __irshift__(self, other: Any) -> WindowSet:
        return self.apply(operator.rshift, other)

    def __iand__(self, other: Any) -> WindowSet:
        return self.apply(operator.and_, other)

    def __ixor__(self, other: Any) -> WindowSet:
        return self.apply(operator.xor, other)

    def __ior__(self, other: Any) -> WindowSet:
        return self.apply(operator.or_, other)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: table={self.table}>"


class _View:
    def __init__(self, wrapper: WindowWrapper, event: Any = None) -> None:
        self._mapping = wrapper
        self.event = event

    def _pick(self, item: tuple[Any, Any]) -> Any:
        raise NotImplementedError

    def __iter__(self) -> Iterator[Any]:
        return (self._pick(i) for i in self._mapping._items(self.event))

    def __len__(self) -> int:
        return len(self._mapping)

    def now(self) -> Iterator[Any]:
        """Over the windows closest to each partition's stream time (Faust)."""
        return (self._pick(i) for i in self._mapping._items_now())

    def current(self, event: Any = None) -> Iterator[Any]:
        """Over the windows of the event's time (Faust)."""
        return (self._pick(i) for i in self._mapping._items_current(event or self.event))

    def delta(self, d: Any, event: Any = None) -> Iterator[Any]:
        """Over the windows ``d`` seconds before the event's time (Faust)."""
        return (self._pick(i) for i in self._mapping._items_delta(d, event or self.event))


class WindowedKeysView(_View):
    """``wrapper.keys()`` (Faust)."""

    def _pick(self, item: tuple[Any, Any]) -> Any:
        return item[0]


class WindowedValuesView(_View):
    """``wrapper.values()`` (Faust)."""

    def _pick(self, item: tuple[Any, Any]) -> Any:
        return item[1]


class WindowedItemsView(_View):
    """``wrapper.items()`` (Faust)."""

    def _pick(self, item: tuple[Any, Any]) -> Any:
        return item


class WindowWrapper:
    """A windowed table as Faust shows it: ``wrapper[key]`` is a :class:`WindowSet`."""

    ValueType = WindowSet

    def __init__(self, table: Any, *, relative_to: Any = None, key_index: bool = False) -> None:
        self.table = table
        self.key_index = key_index
        self._get_relative_timestamp = self._relative_handler(relative_to)

    def clone(self, relative_to: Any) -> WindowWrapper:
        """This wrapper with another time relativity (Faust)."""
        return type(self)(
            self.table,
            relative_to=relative_to or self._get_relative_timestamp,
            key_index=self.key_index,
        )

    @property
    def name(self) -> str:
        return str(self.table.name)

    def relative_to(self, ts: Any) -> WindowWrapper:
        """Time relative to ``ts``: a callable of the event, a datetime, seconds, or a field."""
        return self.clone(relative_to=ts)

    def relative_to_now(self) -> WindowWrapper:
        """Time relative to the partition's stream time (Faust's ``_relative_now``)."""
        return self.clone(relative_to=self.table._relative_now)

    def relative_to_field(self, field: Any) -> WindowWrapper:
        """Time from ``field`` of the event's value (e.g. ``Order.created``)."""
        return self.clone(relative_to=self.table._relative_field(field))

    def relative_to_stream(self) -> WindowWrapper:
        """Time of the event being processed."""
        return self.clone(relative_to=self.table._relative_event)

    @property
    def get_relative_timestamp(self) -> RelativeHandler | None:
        return self._get_relative_timestamp

    @get_relative_timestamp.setter
    def get_relative_timestamp(self, relative_to: Any) -> None:
        self._get_relative_timestamp = self._relative_handler(relative_to)

    def _relative_handler(self, relative_to: Any) -> RelativeHandler | None:
        if relative_to is None:
            return None
        if isinstance(relative_to, datetime):
            return self.table._relative_timestamp(relative_to.timestamp())  # type: ignore[no-any-return]
        if isinstance(relative_to, (int, float)) and not isinstance(relative_to, bool):
            return self.table._relative_timestamp(float(relative_to))  # type: ignore[no-any-return]
        if hasattr(relative_to, "field") and not callable(relative_to):
            return self.table._relative_field(relative_to)  # type: ignore[no-any-return]
        if callable(relative_to):
            return relative_to  # type: ignore[no-any-return]
        raise TableError(f"Relative cannot be type {type(relative_to)}")

    def get_timestamp(self, event: Any = None) -> float:
        """The time (seconds) the wrapper's relativity gives for ``event`` (Faust)."""
        event = event or current_event()
        handler = self._get_relative_timestamp
        if handler is not None:
            timestamp = handler(event)
            if isinstance(timestamp, datetime):
                timestamp = timestamp.timestamp()
            return checked(float(timestamp), "the relative_to time")
        if event is None:
            raise RuntimeError("Operation outside of stream iteration")
        return float(self.table._event_time(event))

    def on_recover(self, fun: Any) -> Any:
        return self.table.on_recover(fun)

    def __contains__(self, key: Any) -> bool:
        return bool(self.table._windowed_contains(key, self.get_timestamp()))

    def __getitem__(self, key: Any) -> WindowSet:
        return self.ValueType(key, self.table, self, current_event())

    def __setitem__(self, key: Any, value: Any) -> None:
        if not isinstance(value, WindowSet):
            self.table._set_windowed(key, value, self.get_timestamp())

    def __delitem__(self, key: Any) -> None:
        self.table._del_windowed(key, self.get_timestamp())

    def __len__(self) -> int:
        if not self.key_index:
            raise NotImplementedError("Windowed table must use_index=True to support len()")
        return sum(1 for _ in self._keys())

    def __iter__(self) -> Iterator[Any]:
        return self._keys()

    def keys(self) -> WindowedKeysView:
        return WindowedKeysView(self)

    def values(self, event: Any = None) -> WindowedValuesView:
        return WindowedValuesView(self, event or current_event())

    def items(self, event: Any = None) -> WindowedItemsView:
        return WindowedItemsView(self, event or current_event())

    def _keys(self) -> Iterator[Any]:
        if not self.key_index:
            raise NotImplementedError(
                "Windowed table must set use_index=True to support .keys/.items/.values"
            )
        seen: set[Any] = set()
        for key in self.table._iter_keys():
            if key[0] not in seen:
                seen.add(key[0])
                yield key[0]

    def _each(self, fn: Callable[[Any], Any]) -> Iterator[tuple[Any, Any]]:
        for key in list(self._keys()):
            try:
                yield key, fn(key)
            except KeyError:
                pass

    def _items(self, event: Any = None) -> Iterator[tuple[Any, Any]]:
        timestamp = self.get_timestamp(event)
        return self._each(lambda k: self.table._windowed_timestamp(k, timestamp))

    def _items_now(self) -> Iterator[tuple[Any, Any]]:
        return self._each(self.table._windowed_now)

    def _items_current(self, event: Any = None) -> Iterator[tuple[Any, Any]]:
        timestamp = self.table._relative_event(event)
        return self._each(lambda k: self.table._windowed_timestamp(k, timestamp))

    def _items_delta(self, d: Any, event: Any = None) -> Iterator[tuple[Any, Any]]:
        want_seconds(d)
        return self._each(lambda k: self.table._windowed_delta(k, d, event))

    def as_ansitable(self, title: str = "{table.name}", **kwargs: Any) -> str:
        """The windows of the event's time as a terminal table (Faust's ``as_ansitable``)."""
        from streamctl.tables.windows.display import dict_as_ansitable

        return dict_as_ansitable(dict(self.items()), title=title.format(table=self.table), **kwargs)

    def __repr__(self) -> str:
        return f"<WindowWrapper: table={self.table.name!r} window={self.table.window!r}>"
