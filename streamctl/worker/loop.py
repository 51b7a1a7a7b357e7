"""The worker: the run loop that polls, processes, produces and commits, batch by batch.

One batch per poll, in this order (the order is what makes crash recovery exact):

1. decode every record (failures go to a dead-letter topic or stop the worker);
2. feed the events to each agent and wait until every agent has fully processed them;
   agents update tables (buffered, coalesced per key) and queue output records;
3. tables queue their coalesced changelog records;
4. the producer flushes: outputs and changelog records are durable on the broker;
5. tables commit their stores, each in one transaction together with the changelog
   offset it reflects (so recovery knows where to resume);
6. the source offsets are committed.

A crash before 6 replays the batch from the last committed offsets: every event is
processed at least once, and tables never miss an update their changelog has.

With ``processing_guarantee: exactly_once`` (Kafka only) steps 4 and 6 become one Kafka
transaction (outputs, changelog records and source offsets commit or abort together)
and step 5 moves after it: a store never holds a write its changelog may yet abort.

Commits happen every ``commit_interval`` seconds, when the input goes idle and before
stopping; on a rebalance, what was processed since the last commit is committed before
the partitions go. Events held back by ``take`` in a revoked partition are dropped, uncommitted, and
processed by the partition's next owner. Newly assigned table partitions are rebuilt
from their changelogs before their first event. ``until_idle`` means the group is
drained: this worker's partitions are read to their ends and every other source
partition is committed to its end (a dead member's partitions are waited for).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from streamctl.agents import Agent, AgentError
from streamctl.events import Event
from streamctl.exceptions import DecodeError, StreamctlError
from streamctl.naming import consumer_group
from streamctl.streams import SKIP, Stream
from streamctl.transport.base import Message, RebalanceListener, TopicPartition
from streamctl.transport.exceptions import BrokerUnavailable, CommitFailed
from streamctl.worker import commit

log = logging.getLogger("streamctl.worker")


@dataclass
class WorkerStats:
    """What the status line shows."""

    processed: int = 0
    dead_lettered: int = 0
    batches: int = 0
    lag: int = 0
    rate: float = 0.0
    started: float = field(default_factory=time.monotonic)
    _window_start: float = field(default_factory=time.monotonic)
    _window_count: int = 0

    def tick(self, n: int) -> None:
        self.processed += n
        self._window_count += n
        self.refresh()

    def refresh(self) -> None:
        """Recompute the rate once a second (also when nothing arrives, so it falls to 0)."""
        now = time.monotonic()
        span = now - self._window_start
        if span >= 1.0:
            self.rate = self._window_count / span
            self._window_start = now
            self._window_count = 0


@dataclass
class _Route:
    agent: Agent
    streams: list[Stream]


class Worker(RebalanceListener):
    """Runs an App's agents, tables and timers against its broker."""

    def __init__(
        self,
        app: Any,
        *,
        until_idle: bool = False,
        on_stats: Callable[[WorkerStats], None] | None = None,
        install_signal_handlers: bool = True,
    ) -> None:
        self.app = app
        self.until_idle = until_idle
        self.on_stats = on_stats
        self.install_signal_handlers = install_signal_handlers
        self.stats = WorkerStats()
        self.routes: dict[str, list[_Route]] = {}
        self._tasks: dict[asyncio.Task[Any], str] = {}
        self._stopping = False
        self._uncommitted: dict[TopicPartition, int] = {}
        self._last_commit = time.monotonic()
        self._assigned_partitions: set[int] = set()
        self.consumer: Any = None
        self._global_consumer: Any = None
        self._eos = bool(getattr(app.conf, "exactly_once", False))
        self._source_tps: set[TopicPartition] = set()

    # -- lifecycle -------------------------------------------------------------------------
    def run(self) -> int:
        """Run until stopped (SIGINT/SIGTERM) or, with ``until_idle``, drained. Returns 0."""
        return asyncio.run(self.start())

    def stop(self) -> None:
        """Finish the current batch, commit, close and return."""
        if not self._stopping:
            log.info("stopping: finishing the current batch")
        self._stopping = True

    async def start(self) -> int:
        app = self.app
        app.worker_running = True
        loop = asyncio.get_running_loop()
        if self.install_signal_handlers:
            for sig in (signal.SIGINT, signal.SIGTERM):
                try:
                    loop.add_signal_handler(sig, self.stop)
                except (NotImplementedError, RuntimeError):
                    pass
        try:
            await self._start_agents()
            await self._connect()
            if self._eos:
                app.context.transactional_producer().begin_transaction()
            self._check_copartitioning()
            self._start_global_tables()
            self.consumer = app.transport.consumer(consumer_group(app.id))
            self.consumer.subscribe(sorted(self.routes), listener=self)
            for timer in app.timers:
                self._tasks[asyncio.create_task(timer.run(), name=f"timer:{timer.name}")] = (
                    f"timer {timer.name}"
                )
            await self._loop()
            return 0
        except BaseException:
            # the failed batch is neither flushed nor committed: it is replayed on restart
            producer = app.context.producer_if_open()
            if producer is not None:
                if self._eos:
                    producer.abort_transaction()
                producer.discard()
            for table in app.tables.values():
                table.discard_batch()
            raise
        finally:
            await self._shutdown()

    async def _start_agents(self) -> None:
        for agent in self.app.agents.values():
            agent.start()
            for i, task in enumerate(agent.tasks):
                self._tasks[task] = f"agent {agent.name}#{i}"
        # let every agent run up to its first wait, so group_by topics are declared
        for _ in range(3):
            await asyncio.sleep(0)
        self._raise_for_finished_tasks()
        for agent in self.app.agents.values():
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

    async def _connect(self) -> None:
        """Create the app's topics, retrying an unreachable broker up to broker_start_timeout."""
        timeout = float(self.app.conf.broker_start_timeout)
        deadline = time.monotonic() + timeout
        delay = 0.5
        while True:
            try:
                self.app.ensure_topics()
                break
            except BrokerUnavailable as exc:
                left = deadline - time.monotonic()
                if left <= 0 or self._stopping:
                    raise BrokerUnavailable(
                        f"{exc}; gave up after {timeout:.0f}s (broker_start_timeout)"
                    ) from None
                log.warning("%s; retrying in %.1fs", exc, min(delay, left))
                await asyncio.sleep(min(delay, left))
                delay = min(delay * 2, 10.0)
        topics = self.app.transport.list_topics()
        self._source_tps = {
            TopicPartition(name, p)
            for name in self.routes
            if name in topics
            for p in range(topics[name].partitions)
        }

    def _add_route(self, agent: Agent, streams: list[Stream]) -> None:
        self.routes.setdefault(streams[0].topic.name, []).append(_Route(agent, streams))

    def _check_copartitioning(self) -> None:
        tables = [t for t in self.app.tables.values() if not getattr(t, "is_global", False)]
        if not tables:
            return
        existing = self.app.transport.list_topics()
        for topic_name in self.routes:
            spec = existing.get(topic_name)
            if spec is None:
                continue
            for table in tables:
                table.check_copartitioning(spec.partitions, source=topic_name)

    def _start_global_tables(self) -> None:
        globals_ = [t for t in self.app.tables.values() if getattr(t, "is_global", False)]
        if not globals_:
            return
        for table in globals_:
            table.recover(self.app.transport, None, progress=self._recovery_progress)
        consumer = self.app.transport.consumer(None)
        tps: list[TopicPartition] = []
        topics = self.app.transport.list_topics()
        for table in globals_:
            name = table.changelog_spec().name
            tps.extend(TopicPartition(name, p) for p in range(topics[name].partitions))
        consumer.assign(tps)
        for tp in tps:
            table = next(t for t in globals_ if t.changelog_spec().name == tp.topic)
            consumer.seek(tp, table.next_offset(tp.partition))
        self._global_consumer = (consumer, {t.changelog_spec().name: t for t in globals_})

    def _recovery_progress(self, table: Any, partition: int, done: int, total: int) -> None:
        if done == total:
            log.info("recovered table %s[%d]: %d changelog records", table.name, partition, total)

    # -- rebalance (called from poll) -----------------------------------------------------------
    def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info("assigned %s", _describe(assigned))
        parts = {tp.partition for tp in assigned}
        new = parts - self._assigned_partitions
        self._assigned_partitions |= parts
        for table in self.app.tables.values():
            if not getattr(table, "is_global", False) and new:
                table.recover(self.app.transport, new, progress=self._recovery_progress)

    def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        # Runs inside poll (on Kafka on a helper thread while the loop thread waits in
        # poll, so nothing else touches the worker's state). Batches processed since the
        # last commit (commit_interval) are committed now, before the partitions go.
        log.info("revoked %s", _describe(revoked))
        if self._dirty() or self._uncommitted:
            self._commit_now()
        dropped = sum(
            s.drop_held(revoked)
            for routes in self.routes.values()
            for r in routes
            for s in r.streams
        )
        if dropped:
            log.info(
                "%d event(s) held by take() in revoked partitions left to their next owner "
                "(their offsets were not committed)",
                dropped,
            )
        remaining = {tp.partition for tp in self.consumer.assignment() - revoked}
        gone = self._assigned_partitions - remaining
        self._assigned_partitions = remaining
        for tp in revoked:
            self._uncommitted.pop(tp, None)
        for table in self.app.tables.values():
            if not getattr(table, "is_global", False) and gone and hasattr(table, "release"):
                table.release(gone)

    # -- the loop --------------------------------------------------------------------------------
    async def _loop(self) -> None:
        conf = self.app.conf
        consumer = self.consumer
        last_stats = 0.0
        while not self._stopping:
            self._follow_global_tables()
            messages = consumer.poll(conf.max_poll_records, timeout=0.0)
            if messages:
                await self._process(messages)
                self.stats.batches += 1
            self._raise_for_finished_tasks()
            if messages and self._commit_due():
                await self._commit()
            now = time.monotonic()
            if now - last_stats >= 1.0:
                last_stats = now
                self._update_lag()
            if not messages:
                if self._uncommitted or self._dirty():
                    await self._commit()  # nothing new: commit what is pending now
                if self.until_idle and await self._idle():
                    log.info("idle: every source partition is drained; exiting")
                    break
                # wait for records without starving timers and signal handlers
                await asyncio.sleep(0)
                messages = consumer.poll(conf.max_poll_records, timeout=conf.poll_timeout)
                if messages:
                    await self._process(messages)
                    self.stats.batches += 1
                    if self._commit_due():
                        await self._commit()
                await asyncio.sleep(0)
        if self._uncommitted or self._dirty():
            await self._commit()  # stopping: the last batches are committed before closing
        self._update_lag()

    def _commit_due(self) -> bool:
        interval = self.app.conf.commit_interval
        return interval <= 0 or time.monotonic() - self._last_commit >= interval

    def _follow_global_tables(self) -> None:
        if self._global_consumer is None:
            return
        consumer, by_topic = self._global_consumer
        messages = consumer.poll(10_000, timeout=0.0)
        if messages:
            grouped: dict[str, list[Message]] = {}
            for m in messages:
                grouped.setdefault(m.topic, []).append(m)
            for name, msgs in grouped.items():
                by_topic[name].apply_changelog(msgs)

    async def _process(self, messages: list[Message]) -> None:
        by_topic: dict[str, list[Message]] = {}
        for m in messages:
            lst = by_topic.get(m.topic)
            if lst is None:
                lst = by_topic[m.topic] = []
            lst.append(m)
        waits: list[tuple[asyncio.Future[None], Stream, Agent]] = []
        for topic_name, msgs in by_topic.items():
            topic = self.app.topics[topic_name]
            events, bad = topic.decode(msgs)
            if bad:
                self._dead_letter(topic, bad)
            for route in self.routes.get(topic_name, ()):
                streams = route.streams
                if len(streams) == 1:
                    parts = [events]
                else:
                    n = len(streams)
                    parts = [[e for e in events if e.message.partition % n == i] for i in range(n)]
                for stream, evs in zip(streams, parts):
                    if not evs:
                        continue
                    if stream.forward_to is not None:
                        self._forward(route.agent, stream, evs)
                    else:
                        waits.append((stream.feed(evs), stream, route.agent))
            self._note_offsets(msgs)
        if waits:
            await self._wait(waits)
        self.stats.tick(len(messages))

    def _note_offsets(self, msgs: list[Message]) -> None:
        last = {(m.topic, m.partition): m.offset for m in msgs}
        for (topic, partition), offset in last.items():
            self._uncommitted[TopicPartition(topic, partition)] = offset + 1

    async def _wait(self, waits: list[tuple[asyncio.Future[None], Stream, Agent]]) -> None:
        pending = {fut for fut, _, _ in waits}
        while pending:
            done, _ = await asyncio.wait(
                pending | set(self._tasks), return_when=asyncio.FIRST_COMPLETED
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
                            self._agent_failed(agent, stream, task)
                self._raise_for_finished_tasks()
                # a task that ended normally: its streams will not drain; drop them
                pending = {f for f in pending if not f.done() and not self._owner_done(f, waits)}

    def _owner_done(
        self, fut: asyncio.Future[None], waits: list[tuple[Any, Stream, Agent]]
    ) -> bool:
        for f, _stream, agent in waits:
            if f is fut:
                return all(t.done() for t in agent.tasks)
        return False

    def _agent_failed(self, agent: Agent, stream: Stream, task: asyncio.Task[Any]) -> None:
        exc = task.exception() if not task.cancelled() else None
        if exc is None:
            return
        event = stream.in_flight()
        where = ""
        if event is not None:
            m = event.message
            where = f" while processing {m.topic}[{m.partition}]@{m.offset}"
        log.debug("agent %s failed%s", agent.name, where, exc_info=exc)
        raise AgentError(f"agent {agent.name} failed{where}: {type(exc).__name__}: {exc}") from exc

    def _raise_for_finished_tasks(self) -> None:
        for task, what in list(self._tasks.items()):
            if not task.done():
                continue
            del self._tasks[task]
            if task.cancelled():
                continue
            exc = task.exception()
            if exc is not None:
                if isinstance(exc, StreamctlError):
                    raise exc
                log.debug("%s failed", what, exc_info=exc)
                raise AgentError(f"{what} failed: {type(exc).__name__}: {exc}") from exc
            log.warning("%s returned; its events are no longer processed", what)

    def _forward(self, agent: Agent, stream: Stream, events: list[Event]) -> None:
        assert stream.forward_to is not None
        key_fn, topic = stream.forward_to
        send = self.app.producer.send
        dumps = topic.key_serde.dumps
        name = topic.name
        for event in events:
            m = event.message
            try:
                key = key_fn(event.value)
                if key is SKIP:
                    continue
                if key is None:
                    raise ValueError("the new key is None (a missing field?)")
            except Exception as exc:
                # a record without a key to group by is parked, not repartitioned: a None
                # key would fail the table steps downstream on every restart
                targets = self._dead_letter_targets(stream.topic)
                if not targets:
                    raise AgentError(
                        f"agent {agent.name}: group_by key failed on {m.topic}[{m.partition}]"
                        f"@{m.offset}: {type(exc).__name__}: {exc} (give the agent a "
                        "dead_letter topic to park such records and go on)"
                    ) from exc
                self._send_dead_letter(targets, m, exc)
                log.warning(
                    "%s[%d]@%d: group_by key failed (%s); sent to %s",
                    m.topic,
                    m.partition,
                    m.offset,
                    exc,
                    ", ".join(sorted(targets)),
                )
                continue
            send(name, dumps(key), m.value, headers=m.headers or None, timestamp=m.timestamp)

    def _dead_letter_targets(self, topic: Any) -> set[str]:
        """The dead-letter topics of a source topic and of the agents reading it."""
        targets = {topic.dead_letter} if topic.dead_letter else set()
        for route in self.routes.get(topic.name, ()):
            if route.agent.dead_letter:
                targets.add(route.agent.dead_letter)
        return targets

    def _send_dead_letter(self, targets: set[str], m: Message, exc: Exception) -> None:
        """The record as it came, with headers saying what was wrong and where it was."""
        headers = [
            *m.headers,
            ("streamctl.error", str(exc).encode()),
            ("streamctl.error.type", type(exc).__name__.encode()),
            ("streamctl.source.topic", m.topic.encode()),
            ("streamctl.source.partition", str(m.partition).encode()),
            ("streamctl.source.offset", str(m.offset).encode()),
        ]
        for target in sorted(targets):
            self.app.producer.send(target, m.key, m.value, headers=headers, timestamp=m.timestamp)
        self.stats.dead_lettered += 1

    def _dead_letter(self, topic: Any, bad: list[tuple[Message, DecodeError]]) -> None:
        targets = self._dead_letter_targets(topic)
        if not targets:
            m, exc = bad[0]
            raise DecodeError(
                f"cannot decode {m.topic}[{m.partition}]@{m.offset}: {exc} "
                "(give the topic or agent a dead_letter topic to park bad records and go on)"
            )
        for m, exc in bad:
            self._send_dead_letter(targets, m, exc)
        log.warning(
            "%d record(s) of %s could not be decoded; sent to %s (first: @%d %s)",
            len(bad),
            topic.name,
            ", ".join(sorted(targets)),
            bad[0][0].offset,
            bad[0][1],
        )

    # -- committing ----------------------------------------------------------------------------
    def _dirty(self) -> bool:
        producer = self.app.context.producer_if_open()
        if producer is not None and producer.pending:
            return True
        return any(getattr(t, "dirty", False) for t in self.app.tables.values())

    async def _commit(self) -> None:
        """Commit, waiting for the broker (up to broker_wait_timeout) when it is away."""
        self._last_commit = time.monotonic()
        if self._eos:
            self._commit_transaction()
            return
        # the offsets come first: while a flush waits for the broker, agents may process
        # more (a take() chunk); those events' writes are not in this commit, nor their offsets
        offsets = self._committable()
        state = _Tables(self.app)
        producer = self.app.producer
        try:
            metadata = commit.flush(state, producer)
        except BrokerUnavailable as exc:
            metadata = await self._retry(exc, commit.flush_again, producer)
        commit.apply(state, metadata)
        try:
            self._commit_offsets(offsets)
        except BrokerUnavailable as exc:
            await self._retry(exc, self._commit_offsets, offsets)

    def _commit_offsets(self, offsets: dict[TopicPartition, int]) -> None:
        if not offsets:
            return
        try:
            commit.commit_offsets(self.consumer, offsets)
        except CommitFailed as exc:
            self._commit_failed(exc)
            return
        self._forget(offsets)

    def _forget(self, offsets: dict[TopicPartition, int]) -> None:
        for tp, off in offsets.items():
            if self._uncommitted.get(tp) == off:
                del self._uncommitted[tp]

    def _commit_failed(self, exc: CommitFailed) -> None:
        log.warning(
            "%s; the batch stays uncommitted and is processed again by the partitions' "
            "next owner (at-least-once)",
            exc,
        )

    async def _retry(self, exc: BrokerUnavailable, fn: Callable[..., Any], *args: Any) -> Any:
        """Call ``fn`` again until the broker is back, up to broker_wait_timeout seconds."""
        timeout = float(self.app.conf.broker_wait_timeout)
        deadline = time.monotonic() + timeout
        delay = 0.5
        log.warning("%s; waiting for the broker (up to %.0fs)", exc, timeout)
        while True:
            await asyncio.sleep(delay)
            try:
                result = fn(*args)
            except BrokerUnavailable as again:
                if time.monotonic() > deadline:
                    raise BrokerUnavailable(
                        f"{again}; gave up after {timeout:.0f}s (broker_wait_timeout)"
                    ) from None
                log.warning("%s; still waiting", again)
                delay = min(delay * 2, 5.0)
                continue
            log.info("the broker is back; carrying on")
            return result

    def _commit_now(self) -> None:
        """Commit without waiting for the broker (from a rebalance listener)."""
        self._last_commit = time.monotonic()
        if self._eos:
            self._commit_transaction()
            return
        offsets = self._committable()
        commit.commit_batch(_Tables(self.app), self.app.producer)
        self._commit_offsets(offsets)

    def _commit_transaction(self) -> None:
        """Exactly-once: one Kafka transaction per batch, then the stores, then the next one."""
        offsets = self._committable()
        commit.commit_transaction(_Tables(self.app), self.app.producer, self.consumer, offsets)
        self._forget(offsets)

    def _committable(self) -> dict[TopicPartition, int]:
        offsets = dict(self._uncommitted)
        for routes in self.routes.values():
            for route in routes:
                for stream in route.streams:
                    for event in stream.held():
                        m = event.message
                        tp = TopicPartition(m.topic, m.partition)
                        if tp in offsets and offsets[tp] > m.offset:
                            offsets[tp] = m.offset
        return offsets

    async def _idle(self) -> bool:
        """True when nothing is left to do: all streams released, all partitions drained."""
        held = [
            (s, r.agent)
            for routes in self.routes.values()
            for r in routes
            for s in r.streams
            if s.held()
        ]
        if held:
            await self._wait([(s.flush(), s, a) for s, a in held])
            await self._commit()
            return False
        if self._dirty():
            await self._commit()
            return False
        try:
            return self._drained()
        except BrokerUnavailable as exc:
            log.warning("%s; not idle while the broker is away", exc)
            return False

    def _drained(self) -> bool:
        """This worker's partitions read to their ends, and the rest committed to theirs."""
        consumer = self.consumer
        assignment = consumer.assignment()
        if assignment:
            ends = consumer.end_offsets(assignment)
            if any(consumer.position(tp) < end for tp, end in ends.items()):
                return False
        others = self._source_tps - assignment
        if not others:
            return True
        ends = consumer.end_offsets(others)
        return all((consumer.committed(tp) or 0) >= end for tp, end in ends.items())

    def _update_lag(self) -> None:
        self.stats.refresh()
        if self.consumer is None:
            return
        assignment = self.consumer.assignment()
        if assignment:
            try:
                ends = self.consumer.end_offsets(assignment)
                self.stats.lag = sum(
                    max(0, end - self.consumer.position(tp)) for tp, end in ends.items()
                )
            except BrokerUnavailable:
                pass  # the lag shown stays as it was; the loop reports the outage
        if self.on_stats is not None:
            self.on_stats(self.stats)

    async def _shutdown(self) -> None:
        app = self.app
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            try:
                await task
            except BaseException:  # noqa: BLE001 - already reported or cancelled
                pass
        producer = app.context.producer_if_open()
        if self._eos and producer is not None:
            producer.abort_transaction()  # the empty one begun after the last commit
        if self.consumer is not None:
            self.consumer.close()
        if self._global_consumer is not None:
            self._global_consumer[0].close()
        app.worker_running = False
        app.close()


def _describe(tps: set[TopicPartition]) -> str:
    """``sales[0,1] sales-repartition[0,1]`` for a log line."""
    by_topic: dict[str, list[int]] = {}
    for tp in tps:
        by_topic.setdefault(tp.topic, []).append(tp.partition)
    return (
        " ".join(f"{t}[{','.join(map(str, sorted(ps)))}]" for t, ps in sorted(by_topic.items()))
        or "nothing"
    )


class _Tables:
    """All of an app's tables as one :class:`commit.BatchState`."""

    def __init__(self, app: Any) -> None:
        self.tables = list(app.tables.values())

    def prepare_commit(self, producer: Any) -> int:
        return sum(t.prepare_commit(producer) for t in self.tables)

    def commit(self, metadata: list[Any]) -> None:
        for t in self.tables:
            t.commit(metadata)

    def discard_batch(self) -> None:
        for t in self.tables:
            t.discard_batch()
