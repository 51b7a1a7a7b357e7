"""Dispatch: from source topics to agent streams, and waiting until the agents are done.

Each agent instance reads one stream; a ``group_by`` in it adds a child stream on the
repartition topic. The routes map every topic the worker subscribes to onto the agents
and streams reading it. Per batch, the records of a topic are decoded once (failures
follow the topic's ``on_error``), split over an agent's instances by partition, and fed
to their streams; a stream regrouped by ``group_by`` forwards its records to the
repartition topic instead (keyed anew). The worker then waits until every fed stream
has been fully processed.

An event an agent fails on (a step, a plugin agent, a ``group_by`` key, a table value
that does not encode) follows the agent's ``on_error``: its table writes are rolled
back (``tables.changelog.rollback_event``) and it is parked or skipped, and the agent
goes on with the next event; or the worker stops with a one-line message naming
topic[partition]@offset, the agent, the step and its YAML line.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from streamctl.agents import Agent, AgentError
from streamctl.app import App
from streamctl.errorpolicy import blame, blamed
from streamctl.events import Event
from streamctl.exceptions import StreamctlError
from streamctl.streams import SKIP, Stream
from streamctl.tables.changelog import rollback_event, savepoints
from streamctl.transport.base import Message, TopicPartition
from streamctl.worker.deadletter import DeadLetters, with_origin

log = logging.getLogger("streamctl.worker")

#: a Message's topic
_TOPIC = itemgetter(0)

#: (drained future, stream, agent): what the worker waits for after feeding a batch
Wait = tuple["asyncio.Future[None]", Stream, Agent]


@dataclass
class Route:
    """An agent's streams on one topic (one per instance)."""

    agent: Agent
    streams: list[Stream]


class Dispatcher:
    """Routes, agent and timer tasks; feeds batches to streams and waits for the agents."""

    def __init__(self, app: App, dead_letters: DeadLetters) -> None:
        self.app = app
        self.dead_letters = dead_letters
        self.routes: dict[str, list[Route]] = {}
        #: agent and timer tasks, and what each is (for messages)
        self.tasks: dict[asyncio.Task[Any], str] = {}
        #: record an undo log of table writes per batch (some agent skips or parks)
        self.savepoints = False

    # -- start-up ----------------------------------------------------------------------------
    async def start_agents(self) -> None:
        """Start every agent, let each run to its first wait, then route its streams."""
        agents = self.app.agents.values()
        # savepoints cost a little per table write: only an agent that goes on after a
        # failed event needs them (with stop, the whole batch is dropped and replayed)
        self.savepoints = any(a.error_policy != "stop" for a in agents)
        for agent in agents:
            agent.on_failure = self.event_failed
            agent.start()
            for task in agent.tasks:
                self.tasks[task] = f"agent {agent.name!r}"
        # let every agent run up to its first wait, so group_by topics are declared
        for _ in range(3):
            await asyncio.sleep(0)
        self.raise_for_finished_tasks()
        for agent in agents:
            self._add_route(agent, agent.streams)
            children = [s.children for s in agent.streams]
            while any(children):
                level = [c[0] if c else None for c in children]
                if None in level:
                    raise StreamctlError(
                        f"agent {agent.name}: every instance must call group_by alike"
                    )
                self._add_route(agent, [s for s in level if s is not None])
                children = [c[0].children if c else [] for c in children]

    def _add_route(self, agent: Agent, streams: list[Stream]) -> None:
        self.routes.setdefault(streams[0].topic.name, []).append(Route(agent, streams))

    def start_timers(self) -> None:
        for timer in self.app.timers:
            task = asyncio.create_task(timer.run(), name=f"timer:{timer.name}")
            self.tasks[task] = f"timer {timer.name}"

    # -- a batch -----------------------------------------------------------------------------
    async def dispatch(self, messages: list[Message]) -> None:
        """Decode, feed every route's streams (or forward), wait until all is processed."""
        topics_in = set(map(_TOPIC, messages))  # a C loop: one topic is the common case
        by_topic: dict[str, list[Message]] = {}
        if len(topics_in) == 1:
            by_topic[topics_in.pop()] = messages
        else:
            for m in messages:
                lst = by_topic.get(m.topic)
                if lst is None:
                    lst = by_topic[m.topic] = []
                lst.append(m)
        if self.savepoints:
            savepoints(True)  # an undo log per batch: a failed event's table writes roll back
        waits: list[Wait] = []
        topics = self.app.topics
        routes = self.routes
        agent_events = self.dead_letters.stats.agent_events
        for topic_name, msgs in by_topic.items():
            topic = topics[topic_name]
            events, bad = topic.decode(msgs)
            if bad:
                agents = [r.agent for r in routes.get(topic_name, ())]
                self.dead_letters.undecodable(topic, agents, bad)
            for n, route in enumerate(routes.get(topic_name, ())):
                agent_events[(route.agent.name, topic_name)] += len(events)
                if n:
                    # each agent its own Event objects: a failed event's table writes are
                    # rolled back by identity, and must not take another agent's with them
                    events = [Event(e[0], e[1], e[2]) for e in events]
                streams = route.streams
                if len(streams) == 1:
                    parts = [events]
                else:
                    n = len(streams)
                    parts = [[e for e in events if e[2][1] % n == i] for i in range(n)]
                for stream, evs in zip(streams, parts):
                    if not evs:
                        continue
                    if stream.forward_to is not None:
                        await self._forward(route.agent, stream, evs)
                    else:
                        route.agent.hold_outputs()  # released below, before any commit
                        waits.append((stream.feed(evs), stream, route.agent))
        if waits:
            await self.wait(waits)
            for _fut, _stream, agent in waits:
                agent.release_outputs()
        self.dead_letters.report()

    async def _forward(self, agent: Agent, stream: Stream, events: list[Event]) -> None:
        """``group_by``: send each record, keyed anew, to the repartition topic (an async
        key function is awaited)."""
        assert stream.forward_to is not None
        key_fn, topic = stream.forward_to
        is_async = inspect.iscoroutinefunction(key_fn)
        # the record's headers pass through as they came (a sequence of pairs; producers
        # take any, though ``Producer.send`` says list): no copy per record
        send: Callable[..., None] = self.app.producer.send
        dumps = topic.key_serde.dumps
        name = topic.name
        # a record the agent may park after group_by carries where it came from, so it
        # is parked as it came (its key, headers, topic, partition and offset)
        stamp = agent.error_policy == "dead_letter"
        for event in events:
            m = event[2]  # the broker's message
            try:
                key = key_fn(event.value)
                if is_async:
                    key = await key
                if key is SKIP:
                    continue
                if key is None:
                    raise ValueError("the new key is None (a missing field?)")
                try:
                    data = dumps(key)
                except TypeError as exc:
                    # Faust's repartition topic takes its source's key serializer: raw
                    # by default, which writes text and bytes only (Faust fails here too)
                    raise TypeError(
                        f"the new key {key!r} ({type(key).__name__}) cannot be written by "
                        f"the {topic.key_serde.codec.name} key serializer of {name!r}, taken "
                        "from the source topic: return text or bytes, or declare the source "
                        "topic with key_type= or key_serializer='json'"
                    ) from exc
            except Exception as exc:
                blame(exc, ("group_by", name))
                self.event_failed(agent, event, exc)
                continue
            headers = with_origin(m) if stamp else m.headers or None
            send(name, data, m.value, headers=headers, timestamp=m[5])  # ms

    def event_failed(self, agent: Agent, event: Event, exc: Exception) -> None:
        """``agent`` raised ``exc`` on ``event``: stop (raise AgentError), or roll back its
        table writes and park or skip it, per the agent's ``on_error``."""
        policy = agent.error_policy
        if policy == "stop":
            log.debug("agent %s failed", agent.name, exc_info=exc)
            raise AgentError(stop_message(agent, event, exc)) from exc
        rollback_event(event)
        if policy == "skip":
            self.dead_letters.skip(f"agent {agent.name!r}", exc)
            return
        target = agent.dead_letter_topic
        assert target is not None  # Agent refuses dead_letter without a topic
        self.dead_letters.send({target}, event[2], exc, agent=agent.name, step=blamed(exc))

    # -- waiting for the agents --------------------------------------------------------------
    async def wait(self, waits: list[Wait]) -> None:
        """Until every stream fed is processed; raises AgentError when an agent fails."""
        pending = {fut for fut, _, _ in waits}
        while pending:
            done, _ = await asyncio.wait(
                pending | set(self.tasks), return_when=asyncio.FIRST_COMPLETED
            )
            pending -= done
            if done - {fut for fut, _, _ in waits}:
                for fut, stream, agent in waits:
                    if not fut.done():
                        task = (
                            agent.tasks[agent.streams.index(stream)]
                            if stream in agent.streams
                            else None
                        )
                        if task is not None and task.done():
                            _agent_failed(agent, stream, task)
                self.raise_for_finished_tasks()
                # a task that ended normally: its streams will not drain; drop them
                pending = {f for f in pending if not f.done() and not _owner_done(f, waits)}

    def raise_for_finished_tasks(self) -> None:
        """Raise for an agent or timer task that failed; warn about one that returned."""
        for task, what in list(self.tasks.items()):
            if not task.done():
                continue
            del self.tasks[task]
            if task.cancelled():
                continue
            exc = task.exception()
            if exc is not None:
                if isinstance(exc, StreamctlError):
                    raise exc
                log.debug("%s failed", what, exc_info=exc)
                raise AgentError(f"{what} failed: {type(exc).__name__}: {exc}") from exc
            log.warning("%s returned; its events are no longer processed", what)

    async def cancel_tasks(self) -> None:
        """Cancel every agent and timer task and wait for them to end; log the last
        summary of parked and skipped records."""
        savepoints(False)
        self.dead_letters.report(force=True)
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            try:
                await task
            except BaseException:
                pass  # failures were reported already; cancellations are what was asked for

    # -- held events (``take``) ---------------------------------------------------------------
    def streams(self) -> Iterator[tuple[Stream, Agent]]:
        for routes in self.routes.values():
            for route in routes:
                for stream in route.streams:
                    yield stream, route.agent

    def held(self) -> Iterator[Event]:
        """Events streams hold back (``take``): received, not yet fully processed."""
        for stream, _agent in self.streams():
            yield from stream.held()

    async def release_held(self) -> bool:
        """Ask streams holding events to release them and wait; False if none held any."""
        held = [(s, a) for s, a in self.streams() if s.held()]
        if not held:
            return False
        if self.savepoints:
            savepoints(True)
        for _s, agent in held:
            agent.hold_outputs()
        await self.wait([(s.flush(), s, a) for s, a in held])
        for _s, agent in held:
            agent.release_outputs()
        return True

    def drop_held(self, revoked: set[TopicPartition]) -> int:
        """Forget held events of revoked partitions; returns how many."""
        return sum(s.drop_held(revoked) for s, _agent in self.streams())


def _owner_done(fut: asyncio.Future[None], waits: list[Wait]) -> bool:
    for f, _stream, agent in waits:
        if f is fut:
            return all(t.done() for t in agent.tasks)
    return False


def _agent_failed(agent: Agent, stream: Stream, task: asyncio.Task[Any]) -> None:
    exc = task.exception() if not task.cancelled() else None
    if exc is None:
        return
    if isinstance(exc, StreamctlError):
        raise exc
    event = stream.in_flight()
    log.debug("agent %s failed", agent.name, exc_info=exc)
    if event is not None and isinstance(exc, Exception):
        raise AgentError(stop_message(agent, event, exc)) from exc
    raise AgentError(f"agent {agent.name!r} failed: {type(exc).__name__}: {exc}") from exc


def stop_message(agent: Agent, event: Event, exc: BaseException) -> str:
    """One line: where the record is, the agent as written, the step and its line, the error."""
    m = event[2]
    step = blamed(exc)
    if step is None:
        at = ""
    elif step[0] == "agent":  # a Python agent: the line of its code that raised
        at = f" at {step[1]}"
    else:
        at = f" in step {step[0]} ({step[1]})"
    return (
        f"{m.topic}[{m.partition}]@{m.offset}: agent {agent.name!r} failed{at}: "
        f"{type(exc).__name__}: {exc} (on_error: stop; give the agent a dead_letter topic "
        "or on_error: skip to go on past such records)"
    )
