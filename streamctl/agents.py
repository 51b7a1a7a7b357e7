"""Agents: async functions that consume a stream, as in Faust (``@app.agent``)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from streamctl.context import Context
from streamctl.errorpolicy import ON_ERROR, Blame, blame, blamed, check_on_error, innermost
from streamctl.events import Event, _current
from streamctl.exceptions import StreamctlError
from streamctl.streams import Stream
from streamctl.topics import Topic, dumper
from streamctl.transport.base import Headers, RecordMetadata

if TYPE_CHECKING:
    from streamctl.agenttesting import AgentTestWrapper


class AgentError(StreamctlError):
    """An agent raised while processing an event; the worker stops without committing it."""


__all__ = ["ON_ERROR", "Agent", "AgentError", "AgentTestWrapper", "Blame", "blame", "blamed"]


class Agent:
    """A stream processor bound to a topic; ``yield`` in it forwards to its sinks.

    ``on_error`` (``"stop"``, ``"skip"`` or ``"dead_letter"``; None: dead_letter when
    the agent or its topic has a dead-letter topic, else stop) says what the worker
    does with an event the agent raises on; see :meth:`_run`. Raises
    ConfigurationError for another value, or for dead_letter with no topic.
    """

    def __init__(
        self,
        context: Context,
        fun: Callable[[Stream], Any],
        *,
        channel: Topic,
        name: str,
        concurrency: int = 1,
        sink: Iterable[Any] | None = None,
        dead_letter: str | Topic | None = None,
        on_error: str | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        dl = dead_letter.name if isinstance(dead_letter, Topic) else dead_letter
        check_on_error(on_error, dl or channel.dead_letter, f"agent {name!r}")
        self.context = context
        self.fun = fun
        self.channel = channel
        self.name = name
        self.concurrency = concurrency
        self.sinks = list(sink or [])
        self.dead_letter = dl
        #: stop, skip or dead_letter; None: dead_letter when a dead-letter topic is set
        self.on_error = on_error
        #: the step blamed for a failure no step noted (a plugin agent: set by a pipeline
        #: to its ``use:`` line; else the innermost frame of the traceback)
        self.origin: Blame | None = None
        #: ``on_failure(agent, event, exc)``: what the worker does with a failed event
        #: (raise to stop; return to go on with the next event). None: the agent stops.
        self.on_failure: Callable[[Agent, Event, Exception], None] | None = None
        self.streams: list[Stream] = []
        self.tasks: list[asyncio.Task[None]] = []
        self._outboxes: list[_Outbox] = []
        #: between :meth:`hold_outputs` and :meth:`release_outputs` (the worker is feeding
        #: it a batch): what it yields is staged in its outboxes, handed over at the end
        self._holding = False
        self._plan_sinks()
        self.__doc__ = fun.__doc__
        self.__wrapped__ = fun

    def __repr__(self) -> str:
        return f"<Agent {self.name} <- {self.channel.name}>"

    @property
    def app(self) -> Any:
        """The App that declared this agent (Faust's ``agent.app``)."""
        return self.context.app

    def __call__(self, stream: Stream) -> Any:
        return self.fun(stream)

    @property
    def error_policy(self) -> str:
        """``on_error``, or its default: dead_letter when the agent or its topic has a
        dead-letter topic, else stop."""
        if self.on_error is not None:
            return self.on_error
        return "dead_letter" if self.dead_letter or self.channel.dead_letter else "stop"

    @property
    def dead_letter_topic(self) -> str | None:
        """Where failed events go: the agent's dead-letter topic, else its topic's."""
        return self.dead_letter or self.channel.dead_letter

    # -- sending to the agent's topic -----------------------------------------------------
    async def send(
        self,
        *,
        key: Any = None,
        value: Any = None,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: Headers | None = None,
        key_serializer: Any = None,
        value_serializer: Any = None,
    ) -> asyncio.Future[RecordMetadata]:
        """Send a value to this agent's topic; returns the future of its RecordMetadata,
        as :meth:`streamctl.topics.Topic.send` (``timestamp``: float seconds, Faust's)."""
        return await self.channel.send(
            key=key,
            value=value,
            partition=partition,
            timestamp=timestamp,
            headers=headers,
            key_serializer=key_serializer,
            value_serializer=value_serializer,
        )

    async def cast(
        self,
        value: Any = None,
        *,
        key: Any = None,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: Headers | None = None,
    ) -> None:
        """Send without waiting for a reply (Faust's ``cast``)."""
        await self.send(
            key=key, value=value, partition=partition, timestamp=timestamp, headers=headers
        )

    # -- running --------------------------------------------------------------------------
    def start(self) -> list[Stream]:
        """Create one stream and task per instance; the tasks run until they first wait."""
        self.streams = [
            Stream(self.channel, name=f"{self.name}#{i}") for i in range(self.concurrency)
        ]
        self._outboxes = []
        self._holding = False
        self.tasks = [
            asyncio.create_task(self._run(stream), name=f"agent:{self.name}#{i}")
            for i, stream in enumerate(self.streams)
        ]
        return self.streams

    async def _run(self, stream: Stream) -> None:
        """Run the agent function; after an event it failed on was parked or skipped,
        run it again on the same stream, which goes on after that event (as Faust's
        supervisor restarts a crashed agent). Events it had fully processed keep their
        effects; the failed one's table writes were rolled back by ``on_failure``."""
        failed: Event | None = None
        # what the instance yields in a batch is staged, encoded, until the batch ends;
        # an agent that goes on after a failed event drops what that event yielded
        outbox = _Outbox(self)
        self._outboxes.append(outbox)
        while True:
            try:
                await self._run_once(stream, outbox)
                return
            except AgentError:
                raise
            except Exception as exc:
                event = _current.get()
                handler = self.on_failure
                if handler is None or event is None or event is failed:
                    raise  # no event to blame (or it failed again before taking the next)
                failed = event
                outbox.drop(event)
                if blamed(exc) is None:
                    blame(exc, self.origin or innermost(exc, self.fun))
                handler(self, event, exc)

    async def _run_once(self, stream: Stream, outbox: _Outbox) -> None:
        result = self.fun(stream)
        if inspect.isasyncgen(result):
            stage = outbox.stage if self._topic_sinks else None
            others = self._other_sinks
            if others:
                async for out in result:
                    if stage is not None:
                        stage(out)
                    for sink in others:
                        res = sink(out)
                        if inspect.isawaitable(res):
                            await res
            elif stage is not None:  # only topics: no coroutine per value
                async for out in result:
                    stage(out)
            else:
                async for _out in result:
                    pass
        elif inspect.isawaitable(result):
            await result
        else:
            raise AgentError(f"agent {self.name} must be an async function (async def)")

    def _plan_sinks(self) -> None:
        """Pre-resolve sinks into topics to send to and other callables."""
        self._topic_sinks: list[Topic] = []
        self._other_sinks: list[Any] = []
        self._plans: dict[
            str, list[tuple[str, bool, Callable[[Any], Any], Callable[[Any], Any]]]
        ] = {}
        for sink in self.sinks:
            topic = (
                sink
                if isinstance(sink, Topic)
                else sink.channel
                if isinstance(sink, Agent)
                else None
            )
            if topic is None:
                self._other_sinks.append(sink)
            else:
                self._topic_sinks.append(topic)

    def _plan_for(
        self, source: str
    ) -> list[tuple[str, bool, Callable[[Any], Any], Callable[[Any], Any]]]:
        """Per source topic: (sink name, pass key bytes through?, key dumps, value dumps)."""
        topics = self.context.topics
        src = topics[source].key_serde if source in topics else None
        plan: list[tuple[str, bool, Callable[[Any], Any], Callable[[Any], Any]]] = []
        for topic in self._topic_sinks:
            ks = topic.key_serde
            same = src is not None and ks.codec is src.codec and ks.type is src.type
            plan.append((topic.name, same, ks.dumps, dumper(topic.value_serde)))
        self._plans[source] = plan
        return plan

    async def deliver(self, value: Any) -> None:
        """Forward a yielded value to every sink: topic, agent or callable.

        Records sent to a topic or agent keep the key and the timestamp of the event that
        produced them (as Kafka Streams does), so event time survives the hop.
        """
        if self._topic_sinks:
            self.send_to_topics(value)
        for sink in self._other_sinks:
            out = sink(value)
            if inspect.isawaitable(out):
                await out

    def hold_outputs(self) -> None:
        """Stage what the agent yields from now on until :meth:`release_outputs` (the
        worker calls this as it feeds the agent a batch)."""
        self._holding = True

    def release_outputs(self) -> None:
        """Hand what the agent's instances staged in this batch to the producer, one
        ``send_many`` per sink topic (the worker calls this once the batch is processed,
        before it commits), and stop staging."""
        self._holding = False
        for outbox in self._outboxes:
            outbox.release()

    def send_to_topics(self, value: Any) -> None:
        """Queue ``value`` for every topic sink now, with the current event's key and
        timestamp (what the agent yields in a batch is staged instead: :class:`_Outbox`)."""
        if not self._topic_sinks:
            return
        event = _current.get()
        send = self.context.producer.send
        if event is None:
            for topic in self._topic_sinks:
                send(topic.name, None, topic.value_serde.dumps(value))
            return
        m = event[2]  # the broker's message (timestamp_ms), not Faust's copy
        plan = self._plans.get(m.topic) or self._plan_for(m.topic)
        for name, same, kdumps, vdumps in plan:
            # the key's bytes pass through unchanged when both topics encode keys alike
            kb = m.key if same else kdumps(event.key)
            send(name, kb, vdumps(value), timestamp=m.timestamp_ms)

    def test_context(self) -> AgentTestWrapper:
        """Run this agent without a broker: ``async with agent.test_context() as a: await a.put(v)``."""
        from streamctl.agenttesting import AgentTestWrapper

        return AgentTestWrapper(self)


class _Outbox:
    """What one agent instance yielded in the current batch, encoded, column by column per
    topic sink, until the batch is processed: then one ``send_many`` per sink topic.

    Every yield adds one record to every sink, so the sinks' columns stay as long as
    ``stamps`` (the records' timestamps, shared); ``mark`` is where the current event's
    records begin, so :meth:`drop` takes back exactly what a failed event yielded (an
    agent that goes on after a failed event sends nothing for it).
    """

    __slots__ = ("agent", "event", "mark", "stamps", "columns")

    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self.event: Event | None = None
        self.mark = 0
        self.stamps: list[int] = []
        #: per topic sink (the agent's ``_topic_sinks`` order): keys and values
        self.columns: list[tuple[list[bytes | None], list[bytes | None]]] = [
            ([], []) for _ in agent._topic_sinks
        ]

    def stage(self, value: Any) -> None:
        """Encode ``value`` for every topic sink (raising here blames the event); sent
        at once when the worker is not feeding the agent a batch."""
        agent = self.agent
        event = _current.get()
        if event is None or not agent._holding:
            agent.send_to_topics(value)  # e.g. take() released a chunk on its timeout
            return
        if event is not self.event:
            self.event = event
            self.mark = len(self.stamps)
        m = event[2]  # the broker's message, not Faust's copy
        plan = agent._plans.get(m.topic) or agent._plan_for(m.topic)
        columns = self.columns
        if len(plan) == 1:
            _name, same, kdumps, vdumps = plan[0]
            kb = m.key if same else kdumps(event.key)
            vb = vdumps(value)
            keys, values = columns[0]
            keys.append(kb)
            values.append(vb)
        else:
            # every sink's bytes first: a value one sink cannot encode leaves no half record
            encoded = [
                (m.key if same else kdumps(event.key), vdumps(value))
                for _name, same, kdumps, vdumps in plan
            ]
            for (keys, values), (kb, vb) in zip(columns, encoded):
                keys.append(kb)
                values.append(vb)
        self.stamps.append(m[5])  # timestamp_ms, without the property's frame

    def release(self) -> None:
        """Hand the staged records to the producer, per sink topic in the order yielded."""
        stamps = self.stamps
        self.event = None
        self.mark = 0
        if not stamps:
            return
        send_many = self.agent.context.producer.send_many
        self.stamps = []
        for topic, (keys, values) in zip(self.agent._topic_sinks, self.columns):
            send_many(topic.name, keys, values, timestamps=stamps)
        self.columns = [([], []) for _ in self.columns]

    def drop(self, event: Event) -> None:
        """Forget what ``event`` yielded (it failed); what earlier events yielded stays."""
        if event is self.event:
            mark = self.mark
            del self.stamps[mark:]
            for keys, values in self.columns:
                del keys[mark:]
                del values[mark:]
            self.event = None


def __getattr__(name: str) -> Any:
    # ``from streamctl.agents import AgentTestWrapper`` keeps working (it moved)
    if name == "AgentTestWrapper":
        from streamctl.agenttesting import AgentTestWrapper

        return AgentTestWrapper
    raise AttributeError(f"module 'streamctl.agents' has no attribute {name!r}")
