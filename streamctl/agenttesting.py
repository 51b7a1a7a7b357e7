"""``agent.test_context()``: run one agent without a broker, as Faust's AgentTestWrapper."""

from __future__ import annotations

import asyncio
import inspect
import itertools
import time
from typing import TYPE_CHECKING, Any

from streamctl.events import Event, EventMessage, current_event
from streamctl.streams import SKIP, Stream
from streamctl.transport.base import Headers

if TYPE_CHECKING:
    from streamctl.agents import Agent


class AgentTestWrapper:
    """Feeds values straight into an agent, one event at a time, as Faust's test context.

    ``results`` maps each put event's offset to what the agent yielded for it (an agent
    that does not yield: None, once the event is processed) and ``sent`` lists every
    yielded value; nothing is written to a broker. A ``group_by`` in the agent is
    applied here too: the event reaches the regrouped stream with its new key (and its
    own offset, which ``results`` is keyed by).
    """

    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self.results: dict[int, Any] = {}
        self.sent: list[Any] = []
        self._offsets = itertools.count()
        self._stream: Stream | None = None
        self._task: asyncio.Task[None] | None = None
        self._yields = inspect.isasyncgenfunction(agent.fun)

    async def __aenter__(self) -> AgentTestWrapper:
        self._stream = Stream(self.agent.channel, name=f"{self.agent.name}#test")
        self._task = asyncio.create_task(self._run())
        await asyncio.sleep(0)
        self._check()
        return self

    async def _run(self) -> None:
        assert self._stream is not None
        result = self.agent.fun(self._stream)
        if inspect.isasyncgen(result):
            async for out in result:
                event = current_event()
                if event is not None:
                    self.results[event.message.offset] = out
                # topic sinks are not written (no broker here): what they would get is
                # in ``sent``; callable sinks are called as in a worker
                self.sent.append(out)
                for sink in self.agent._other_sinks:
                    res = sink(out)
                    if inspect.isawaitable(res):
                        await res
        else:
            await result

    def _check(self) -> None:
        if self._task is not None and self._task.done():
            exc = self._task.exception()
            if exc is not None:
                raise exc

    async def put(
        self,
        value: Any = None,
        key: Any = None,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: Headers | None = None,
        key_serializer: Any = None,
        value_serializer: Any = None,
        *,
        reply_to: Any = None,
        correlation_id: str | None = None,
        wait: bool = True,
    ) -> Event:
        """Process one value; returns its Event once the agent has fully handled it.

        Faust's signature (``put(value, key)`` by position; ``timestamp`` in float
        seconds, default now). The serializers, ``reply_to``, ``correlation_id`` and
        ``wait`` are accepted: the value goes in as given, and put always waits.
        """
        assert self._stream is not None and self._task is not None
        ts = round((timestamp if timestamp is not None else time.time()) * 1000)
        message = tuple.__new__(
            EventMessage,
            (
                self.agent.channel.name,
                partition or 0,
                next(self._offsets),
                None,
                None,
                ts,
                list(headers or []),
            ),
        )
        event = Event(key, value, message)
        stream, fed = self._stream, event
        while stream.forward_to is not None and stream.children:  # group_by: key it anew
            key_fn = stream.forward_to[0]
            new_key = key_fn(fed.value)
            if inspect.isawaitable(new_key):
                new_key = await new_key
            if new_key is SKIP:
                return event
            fed = Event(new_key, fed.value, message)
            stream = stream.children[-1]
        drained = stream.feed([fed])
        await asyncio.wait({drained, self._task}, return_when=asyncio.FIRST_COMPLETED)
        self._check()
        if not self._yields and drained.done():
            self.results.setdefault(message.offset, None)
        return event

    async def __aexit__(self, *exc: Any) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
