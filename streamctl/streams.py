"""Streams: what an agent iterates. The worker feeds them one batch at a time.

Hand-off protocol between worker and agent (one per stream):

- the worker calls :meth:`Stream.feed` with a batch of events and awaits the
  returned future;
- the agent pulls events; pulling past the last one means every event of the
  batch has been fully processed, so the stream resolves that future and parks
  until the next :meth:`feed` (or a :meth:`flush` wake-up at idle/stop);
- events a stream holds back (``take`` buffers) are reported by :meth:`held` so
  the worker never commits an offset past an event that is not yet processed.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any

from streamctl.events import Event, _current

if TYPE_CHECKING:
    from streamctl.topics import Topic

_FLUSH = "flush"

#: returned by a ``group_by`` key function: leave this record out of the regrouped stream
SKIP = object()


class Stream:
    """An async iterator of values from one topic, for one agent instance."""

    def __init__(self, topic: Topic, *, name: str = "") -> None:
        self.topic = topic
        self.name = name or topic.name
        self._events: list[Event] = []
        self._i = 0
        self._drained: asyncio.Future[None] | None = None
        self._waiter: asyncio.Future[str] | None = None
        self._held: list[Event] = []
        #: set by group_by: (key function, repartition topic); the worker forwards instead of feeding
        self.forward_to: tuple[Callable[[Any], Any], Topic] | None = None
        self.children: list[Stream] = []

    def __repr__(self) -> str:
        return f"<Stream {self.name}>"

    @property
    def app(self) -> Any:
        """The App this stream belongs to: how a plugin agent reaches its tables
        (``stream.app.tables["name"]``)."""
        return self.topic.context.app

    # -- worker side ---------------------------------------------------------------------
    def feed(self, events: list[Event]) -> asyncio.Future[None]:
        """Hand a batch to the agent; the future resolves once all of it is processed."""
        loop = asyncio.get_running_loop()
        self._events = events
        self._i = 0
        fut = self._drained = loop.create_future()
        self._wake(None)
        return fut

    def flush(self) -> asyncio.Future[None]:
        """Ask buffering operators (``take``) to release what they hold; resolves when done."""
        loop = asyncio.get_running_loop()
        fut = self._drained = loop.create_future()
        self._wake(_FLUSH)
        return fut

    def _wake(self, how: str | None) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(how or "batch")

    def in_flight(self) -> Event | None:
        """The event of the current batch the agent took last (the one it is processing);
        None before it took one."""
        i = self._i - 1
        events = self._events
        return events[i] if 0 <= i < len(events) else None

    def held(self) -> list[Event]:
        """Events received but not yet fully processed (held by ``take``)."""
        return self._held

    def drop_held(self, partitions: set[Any]) -> int:
        """Forget held events of ``partitions`` (revoked: their next owner reads them again).

        Their offsets were never committed (see :meth:`held`), so nothing is lost.
        The list is changed in place: ``take`` holds a reference to it.
        """
        held = self._held
        keep = [e for e in held if (e[2].topic, e[2].partition) not in partitions]
        dropped = len(held) - len(keep)
        if dropped:
            held[:] = keep
        return dropped

    @property
    def waiting(self) -> bool:
        """True while the agent is parked waiting for the next batch."""
        return self._waiter is not None and not self._waiter.done()

    # -- agent side ----------------------------------------------------------------------
    async def _park(self, timeout: float | None = None) -> str:
        """Report the batch as processed and wait for the next one (or a flush)."""
        drained = self._drained
        if drained is not None and not drained.done():
            drained.set_result(None)
        waiter: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._waiter = waiter
        try:
            if timeout is None:
                return await waiter
            return await asyncio.wait_for(asyncio.shield(waiter), timeout)
        except asyncio.TimeoutError:
            return "timeout"
        finally:
            self._waiter = None

    async def next_event(self) -> Event:
        while True:
            i = self._i
            if i < len(self._events):
                self._i = i + 1
                event = self._events[i]
                _current.set(event)
                return event
            await self._park()

    def taking(self) -> Iterator[Event]:
        """The current batch's events not yet taken, each taken and made the current
        event as it is reached (as :meth:`__anext__` does, without a coroutine per
        event): the loop of an agent that does not await per event, such as a YAML
        step chain. Follow it with :meth:`wait` for the next batch."""
        events = self._events
        i = self._i
        n = len(events)
        set_current = _current.set
        while i < n:
            event = events[i]
            i += 1
            self._i = i
            set_current(event)
            yield event

    async def wait(self) -> str:
        """Report the batch as processed (every event was taken) and wait for the next
        one: ``"batch"``, or ``"flush"`` when the worker asks held events out."""
        return await self._park()

    def __aiter__(self) -> Stream:
        return self

    async def __anext__(self) -> Any:
        # the fast path is inlined: it runs once per event
        i = self._i
        if i < len(self._events):
            self._i = i + 1
            event = self._events[i]
            _current.set(event)
            return event.value
        return (await self.next_event()).value

    @property
    def current_event(self) -> Event | None:
        return _current.get()

    async def events(self) -> AsyncIterator[Event]:
        """Iterate over Events (value plus key, topic, partition, offset, headers)."""
        while True:
            yield await self.next_event()

    async def items(self) -> AsyncIterator[tuple[Any, Any]]:
        """Iterate over (key, value) pairs."""
        while True:
            event = await self.next_event()
            yield event.key, event.value

    def filter(self, fun: Callable[[Any], Any]) -> AsyncIterator[Any]:
        """Only the values for which ``fun(value)`` is true (``fun`` may be async)."""
        if inspect.iscoroutinefunction(fun):
            return self._filter_async(fun)
        return _Filtered(self, fun)

    async def _filter_async(self, fun: Callable[[Any], Awaitable[Any]]) -> AsyncIterator[Any]:
        async for value in self:
            if await fun(value):
                yield value

    def group_by(
        self,
        key: Callable[[Any], Any] | str | Any,
        *,
        name: str | None = None,
        topic: Topic | None = None,
        partitions: int | None = None,
    ) -> Stream:
        """Repartition by a new key through an internal topic; returns the stream to read.

        ``key`` is, as in Faust, a model field (``Order.account_id``: read from the
        value, named by the field), a function of the value (async functions are
        awaited), or the name of a field/attribute. A key function may return
        :data:`SKIP` to leave a record out. ``name`` names the internal topic (needed
        for a lambda); ``topic`` and ``partitions`` (Faust's) are accepted when they
        agree with that topic. Call it before iterating (the worker must know the topic
        before it subscribes).
        """
        return self._regroup(key, name, None, topic=topic, partitions=partitions)

    def _regroup(
        self,
        key: Any,
        name: str | None,
        keep: Callable[[Any], Any] | None,
        *,
        topic: Topic | None = None,
        partitions: int | None = None,
    ) -> Stream:
        """``group_by``; ``keep(value)`` false leaves a record out (a filter before it)."""
        key_fn, name = key_function(key, name)
        if keep is not None:
            inner = key_fn
            if inspect.iscoroutinefunction(inner):

                async def key_fn(v: Any) -> Any:
                    return await inner(v) if keep(v) else SKIP
            else:

                def key_fn(v: Any) -> Any:
                    return inner(v) if keep(v) else SKIP

        for child in self.children:
            if child.name == f"{self.name}->{name}":
                # an agent restarted after a failed event calls group_by again: same stream
                self.forward_to = (key_fn, child.topic)
                return child
        target = self.topic.context.repartition_topic(self.topic, name)
        for given, what in ((topic, "topic"), (partitions, "partitions")):
            actual = target if what == "topic" else target.partitions
            if given is not None and given is not actual and given != actual:
                raise ValueError(
                    f"group_by {what}={given!r}: this stream repartitions through "
                    f"{target.name!r} ({target.partitions} partitions); leave {what} out"
                )
        self.forward_to = (key_fn, target)
        child = Stream(target, name=f"{self.name}->{name}")
        self.children.append(child)
        return child

    async def take(self, max_: int, within: float | None = None) -> AsyncIterator[list[Any]]:
        """Buffer up to ``max_`` values; yield them as a list when full, or after ``within``
        seconds once the first value arrived, or when the worker goes idle or stops."""
        held = self._held
        started: float | None = None
        loop = asyncio.get_running_loop()
        while True:
            i = self._i
            if i < len(self._events):
                self._i = i + 1
                event = self._events[i]
                _current.set(event)
                if not held:
                    started = loop.time()
                held.append(event)
                if len(held) >= max_:
                    chunk = [e.value for e in held]
                    yield chunk
                    held.clear()
                continue
            timeout = None
            if held and within is not None and started is not None:
                timeout = max(0.0, within - (loop.time() - started))
            how = await self._park(timeout)
            if how in (_FLUSH, "timeout") and held:
                _current.set(held[-1])
                chunk = [e.value for e in held]
                yield chunk
                held.clear()


class _Filtered:
    """``stream.filter(fn)`` without an extra generator frame per event."""

    __slots__ = ("stream", "fun")

    def __init__(self, stream: Stream, fun: Callable[[Any], Any]) -> None:
        self.stream = stream
        self.fun = fun

    def __aiter__(self) -> _Filtered:
        return self

    async def __anext__(self) -> Any:
        s = self.stream
        fun = self.fun
        while True:
            i = s._i
            if i < len(s._events):
                s._i = i + 1
                event = s._events[i]
                _current.set(event)
                value = event.value
            else:
                value = (await s.next_event()).value
            if fun(value):
                return value

    def filter(self, fun: Callable[[Any], Any]) -> _Filtered:
        prev = self.fun
        return _Filtered(self.stream, lambda v: prev(v) and fun(v))

    def group_by(self, key: Any, *, name: str | None = None, **options: Any) -> Stream:
        """``stream.filter(f).group_by(k)``: only values ``f`` keeps are repartitioned."""
        return self.stream._regroup(key, name, self.fun, **options)


def key_function(key: Any, name: str | None) -> tuple[Callable[[Any], Any], str]:
    """``group_by``'s key as (function of the value, name of the repartition topic).

    Names follow Faust's ``Stream.group_by``: a given ``name`` is used as it is; a model
    field descriptor reads that field and is named by its ``ident``, ``Model.field`` (so
    ``group_by(PageView.id)`` repartitions through ``<app>-<topic>-PageView.id-repartition``,
    the topic a Faust app on the same cluster uses); a function (plain or async) needs
    ``name`` (TypeError otherwise, as in Faust). A string names a field or attribute and
    the topic (a streamctl extension: Faust has no string keys).
    """
    getter = getattr(key, "getattr", None)
    field = getattr(key, "field", None)
    key_fn: Callable[[Any], Any]
    if callable(getter) and isinstance(field, str) and not inspect.isfunction(key):
        key_fn = getter
        ident = getattr(key, "ident", None)
        name = name or (ident if isinstance(ident, str) and ident else field)
    elif isinstance(key, str):
        attr = key

        def key_fn(v: Any) -> Any:
            return v[attr] if isinstance(v, dict) else getattr(v, attr)

        name = name or attr
    elif callable(key):
        key_fn = key
        if not name:
            raise TypeError(
                f"group_by({getattr(key, '__name__', key)}) needs name=: a key function "
                "does not name the repartition topic (as in Faust)"
            )
    else:
        raise TypeError(f"group_by key must be a field, a function or a field name, not {key!r}")
    return key_fn, name
