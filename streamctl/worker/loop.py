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

Steps 1-2 are ``dispatch``'s, 3-6 ``commit``'s (the one written statement of that
order), the choice of when to commit and which offsets ``committer``'s.

A crash before 6 replays the batch from the last committed offsets: every event is
processed at least once, and tables never miss an update their changelog has.

With ``processing_guarantee: exactly_once`` (the default on the embedded broker) steps 4
and 6 become one transaction, Kafka's or one SQLite transaction (outputs, changelog
records and source offsets commit or abort together), and step 5 moves after it: a
store never holds a write its changelog may yet abort.

Commits happen every ``commit_interval`` seconds, when the input goes idle and before
stopping; on a rebalance, what was processed since the last commit is committed before
the partitions go (``rebalance``). Newly assigned table partitions are rebuilt from
their changelogs before their first event (``tables/manager.py``). ``until_idle``
means the group is drained: this worker's partitions are read to their ends and every
other source partition is committed to its end (a dead member's partitions are
waited for), and then the windows still open close, as at the end of bounded input
(``punctuate``).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import signal
import time
from collections.abc import Callable, Sized
from concurrent.futures import Future
from typing import Any

from streamctl.app import App
from streamctl.events import current_event
from streamctl.naming import consumer_group, is_repartition_topic
from streamctl.tables.changelog import WriteBuffer, rollback_event
from streamctl.tables.manager import TableManager
from streamctl.tables.recovery import Progress
from streamctl.transport.base import Consumer, Message, TopicPartition
from streamctl.transport.exceptions import BrokerUnavailable
from streamctl.worker.collector import batch_sized
from streamctl.worker.committer import Committer
from streamctl.worker.deadletter import DeadLetters
from streamctl.worker.dispatch import Dispatcher
from streamctl.worker.punctuate import Punctuator
from streamctl.worker.rebalance import Rebalance
from streamctl.worker.recoverylog import RecoveryLog
from streamctl.worker.retry import until_broker_answers
from streamctl.worker.stats import WorkerStats, drained, partition_lag

log = logging.getLogger("streamctl.worker")

#: the longest pause between attempts while a starting worker waits for the broker
MAX_START_DELAY = 10.0


class Worker(RecoveryLog):
    """Runs an App's agents, tables and timers against its broker."""

    def __init__(
        self,
        app: App,
        *,
        until_idle: bool = False,
        on_stats: Callable[[WorkerStats], None] | None = None,
        on_recovery: Progress | None = None,
        install_signal_handlers: bool = True,
    ) -> None:
        self.app = app
        self.until_idle = until_idle
        self.on_stats = on_stats
        #: ``on_recovery(table, partition, done, total)`` while a changelog is replayed
        #: (besides the worker's own log line when a partition is done)
        self.on_recovery = on_recovery
        self.install_signal_handlers = install_signal_handlers
        self.stats = WorkerStats()
        self.dispatch = Dispatcher(app, DeadLetters(app.context, self.stats))
        self.routes = self.dispatch.routes
        self.tables = self._table_manager()
        self.consumer: Consumer | None = None
        self._stopping = False
        #: exactly-once: the context's producer is transactional (a failed transaction
        #: replaces it: ``committer``)
        self._transactional = False
        self._source_tps: set[TopicPartition] = set()
        #: (table, changelog records) of each table partition rebuilt since the last summary
        self._recovered: list[tuple[str, int]] = []
        #: repartition topics among the routes: their events are not counted as input
        self._internal: frozenset[str] = frozenset()
        self._routes_seen = -1
        #: keys per table as the loop ended (the run summary's)
        self.final_table_sizes: dict[str, int] = {}
        #: a ``call`` ran since the last idle commit (its writes wait for commit_interval)
        self._called = False
        #: calls other threads asked to run on the loop between two batches (``call``)
        self._calls: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
        self.punctuator = Punctuator((), app.conf)

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
        """Run the worker on the running event loop (``run`` does it in a new one);
        returns 0. The cycle collector runs about once per batch meanwhile (``collector``)."""
        with batch_sized(self.app.conf.max_poll_records):
            return await self._start()

    async def _start(self) -> int:
        app = self.app
        app.worker_running = True
        if self.install_signal_handlers:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                try:
                    loop.add_signal_handler(sig, self.stop)
                except (NotImplementedError, RuntimeError):
                    pass
        try:
            await self.dispatch.start_agents()
            sources = await self._connect()
            if app.conf.exactly_once:
                app.context.transactional_producer().begin_transaction()
                self._transactional = True
            # the tables again: an agent may have declared one as it started
            self.tables = self._table_manager()
            self.punctuator = Punctuator(app.tables.values(), app.conf)
            self.tables.start(app.transport, sources)
            self.stats.changelogs = {
                t.changelog_topic.name: t.name for t in app.tables.values() if not t.is_global
            }
            group = consumer_group(app.id)
            consumer = self.consumer = app.transport.consumer(group)
            committer = Committer(app.context, self.tables, consumer, self.dispatch)
            listener = Rebalance(
                consumer,
                committer,
                self.dispatch,
                self.tables,
                after_assign=self._log_recovered,
                transport=app.transport,
                group_id=group,
            )
            consumer.subscribe(sorted(self.routes), listener=listener)
            self.dispatch.start_timers()
            await self._loop(consumer, committer)
            return 0
        except BaseException:
            # the failed batch is neither flushed nor committed: it is replayed on restart
            producer = app.context.producer_if_open()
            if producer is not None:
                if self._transactional:
                    producer.abort_transaction()
                producer.discard()
            self.tables.discard_batch()
            raise
        finally:
            await self._shutdown()

    def _table_manager(self) -> TableManager:
        return TableManager(
            self.app.tables.values(),
            progress=self._recovery_progress,
            standby_replicas=int(self.app.conf.table_standby_replicas),
        )

    async def _connect(self) -> dict[str, int]:
        """Create the app's topics, retrying an unreachable broker up to broker_start_timeout.

        Returns the partition counts of the source topics the broker has.
        """
        app = self.app
        await until_broker_answers(
            app.ensure_topics,
            timeout=float(app.conf.broker_start_timeout),
            setting="broker_start_timeout",
            max_delay=MAX_START_DELAY,
            stopping=lambda: self._stopping,
        )
        topics = app.transport.list_topics()
        sources = {name: topics[name].partitions for name in self.routes if name in topics}
        self._source_tps = {TopicPartition(t, p) for t, n in sources.items() for p in range(n)}
        return sources

    def call(self, fn: Callable[[], Any]) -> Future[Any]:
        """Run ``fn()`` on the worker's loop between two batches (from any thread); its
        table writes go into the worker's next commit. Returns a future of its result
        (or exception). Calls made once the worker stopped never run: wait with a timeout.
        """
        future: Future[Any] = Future()
        self._calls.put((fn, future))
        return future

    def _run_calls(self) -> None:
        """Run the calls other threads queued. Their table writes are buffered like an
        agent's and go into the next commit (with the next batch, or once
        ``commit_interval`` has passed, or as the worker stops)."""
        while not self._calls.empty():
            fn, future = self._calls.get_nowait()
            self._called = True
            if not future.set_running_or_notify_cancel():
                continue
            # a savepoint of the call's own: a call that fails takes back its writes, and
            # only its own (the pending writes of batches not yet committed stay)
            batch_log, WriteBuffer.undo = WriteBuffer.undo, []
            try:
                future.set_result(fn())
            except Exception as exc:
                rollback_event(current_event())  # never half a call in a commit
                future.set_exception(exc)
            finally:
                WriteBuffer.undo = batch_log

    # -- the loop --------------------------------------------------------------------------------
    async def _loop(self, consumer: Consumer, committer: Committer) -> None:
        conf = self.app.conf
        last_stats = 0.0
        while not self._stopping:
            self._run_calls()
            self.tables.follow_globals()
            self.tables.follow_standbys()
            messages = await self._poll(consumer, committer, 0.0)
            if messages:
                await self._process(messages, committer)
            self.dispatch.raise_for_finished_tasks()
            if messages and committer.due():
                await committer.commit()
            now = time.monotonic()
            if now - last_stats >= 1.0:
                last_stats = now
                self._update_lag()
            if not messages:
                await self.punctuator.tick()  # windows of quiet partitions close on time
                committer.note_idle()
                if committer.pending and (
                    committer.uncommitted or not self._called or committer.due()
                ):
                    # nothing new: commit what is pending now (table writes of ``call``s
                    # wait for commit_interval, or the next batch)
                    self._called = False
                    await committer.commit()
                if self.until_idle and await self._idle(consumer, committer):
                    # the end of bounded input: the last open windows close (and emit),
                    # committed with their close marks; then idle is checked again, since
                    # what they emitted may be this app's input
                    if await self.punctuator.close_all():
                        await committer.commit()
                        continue
                    log.info("idle: every source partition is drained; exiting")
                    break
                # wait for records without starving timers and signal handlers
                await asyncio.sleep(0)
                messages = await self._poll(consumer, committer, conf.poll_timeout)
                if messages:
                    await self._process(messages, committer)
                    if committer.due():
                        await committer.commit()
                await asyncio.sleep(0)
        if committer.pending:
            await committer.commit()  # stopping: the last batches are committed before closing
        self._update_lag()
        self.final_table_sizes = self.table_sizes()

    def late_dropped(self) -> dict[str, int]:
        """Late events dropped so far per windowed table (``WindowedTable.late_dropped``)."""
        return {
            name: int(getattr(table, "late_dropped", 0))
            for name, table in self.app.tables.items()
            if getattr(table, "_windows", None) is not None
        }

    async def _poll(
        self, consumer: Consumer, committer: Committer, timeout: float
    ) -> list[Message]:
        """Poll; after a transaction that failed inside the poll's rebalance, the records are
        dropped and the transaction restarted (it seeks back to the committed offsets)."""
        messages = consumer.poll(self.app.conf.max_poll_records, timeout=timeout)
        if committer.broken:
            await committer.restart_transaction()
            return []
        return messages

    async def _process(self, messages: list[Message], committer: Committer) -> None:
        await self.dispatch.dispatch(messages)
        await self.punctuator.after_batch()  # windows close in the batch that closed them
        committer.note(messages)
        internal = self._internal_topics()
        per_topic = self.stats.batch(messages)
        if internal:
            hops = sum(n for topic, n in per_topic.items() if topic in internal)
            self.stats.repartitioned += hops
            self.stats.tick(len(messages) - hops)
        else:
            self.stats.tick(len(messages))
        self.stats.batches += 1

    async def _idle(self, consumer: Consumer, committer: Committer) -> bool:
        """True when nothing is left to do: all streams released, all partitions drained."""
        if await self.dispatch.release_held():
            await committer.commit()
            return False
        if committer.dirty():
            await committer.commit()
            return False
        try:
            return drained(consumer, self._source_tps)
        except BrokerUnavailable as exc:
            log.warning("%s; not idle while the broker is away", exc)
            return False

    def _internal_topics(self) -> frozenset[str]:
        """The repartition topics among the routes (recomputed when a route is added)."""
        if len(self.routes) != self._routes_seen:
            self._routes_seen = len(self.routes)
            app_id = self.app.conf.id
            self._internal = frozenset(t for t in self.routes if is_repartition_topic(app_id, t))
        return self._internal

    def _update_lag(self) -> None:
        self.stats.refresh()
        self.stats.late_dropped = self.late_dropped()
        if self.consumer is not None:
            try:
                behind = partition_lag(self.consumer, exclude=self._internal_topics())
            except BrokerUnavailable:
                behind = None  # the lag shown stays as it was; the loop reports the outage
            if behind is not None:
                self.stats.partition_lag = behind
                self.stats.lag = sum(behind.values())
            try:
                self.stats.standby_lag = self.tables.standby_lag()
            except BrokerUnavailable:
                pass  # as the consumer lag: kept as it was
        if self.stats.detailed:
            self.stats.table_sizes = self.table_sizes()
        if self.on_stats is not None:
            self.on_stats(self.stats)

    def table_sizes(self) -> dict[str, int]:
        """Keys per table in this worker's partitions (a store scan: once a second at most)."""
        return {
            name: len(table) for name, table in self.app.tables.items() if isinstance(table, Sized)
        }

    async def _shutdown(self) -> None:
        await self.dispatch.cancel_tasks()
        producer = self.app.context.producer_if_open()
        if self._transactional and producer is not None:
            producer.abort_transaction()  # the empty one begun after the last commit
        if self.consumer is not None:
            self.consumer.close()
        self.tables.close()
        self.app.worker_running = False
        self.app.close()
