"""Worker statistics: events in and out, dead letters, latency, commits, lag per partition,
tables and recovery (the status line, the metrics, the web view and the run summary all
read them from here); and where the consumer stands against the ends of its input."""

from __future__ import annotations

import time
from bisect import bisect_left
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import itemgetter

from streamctl.transport.base import Consumer, Message, RecordMetadata, TopicPartition

#: a Message's or RecordMetadata's topic
_TOPIC = itemgetter(0)

#: upper bounds (seconds) of the event-time-to-processed latency histogram's buckets
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
#: upper bounds (seconds) of the commit duration histogram's buckets
COMMIT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
#: how many of the last dead-letter reasons the stats keep (the web view lists them)
LAST_REASONS = 20


@dataclass
class Histogram:
    """Counts per bucket (``le`` upper bounds in seconds, plus +Inf), their sum and count."""

    bounds: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    sum: float = 0.0
    count: int = 0

    def __post_init__(self) -> None:
        if not self.counts:
            self.counts = [0] * (len(self.bounds) + 1)

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value
        self.count += 1

    def cumulative(self) -> list[tuple[str, int]]:
        """``[(le, count of observations <= le), ..., ("+Inf", count)]`` (Prometheus')."""
        out, total = [], 0
        for bound, n in zip((*map(repr, map(float, self.bounds)), "+Inf"), self.counts):
            total += n
            out.append((bound, total))
        return out


@dataclass
class WorkerStats:
    """What the status line, the metrics and the run summary show.

    ``processed`` and ``lag`` count source events only: an event that an agent
    repartitions (``group_by``) is read again from an internal topic, and those reads
    are counted apart, in ``repartitioned``. Counters only grow; the run loop writes
    them, other threads (the metrics server) only read them.
    """

    processed: int = 0
    repartitioned: int = 0
    dead_lettered: int = 0
    #: records left out by ``on_error: skip``
    skipped: int = 0
    batches: int = 0
    lag: int = 0
    rate: float = 0.0
    started: float = field(default_factory=time.monotonic)
    #: records read per topic (source and repartition topics)
    received: Counter[str] = field(default_factory=Counter)
    #: events fed to each agent per topic (decoded ones): (agent, topic) -> count
    agent_events: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: records written per topic (outputs and dead letters; changelogs are per table)
    sent: Counter[str] = field(default_factory=Counter)
    #: changelog records written per table
    changelog_records: Counter[str] = field(default_factory=Counter)
    #: records parked or skipped per (action, reason): action "dead_letter" or "skip",
    #: reason the error's type name
    dead_letters: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: the last reasons: (unix time, who, error type, message)
    last_reasons: deque[tuple[float, str, str, str]] = field(
        default_factory=lambda: deque(maxlen=LAST_REASONS)
    )
    latency: Histogram = field(default_factory=lambda: Histogram(LATENCY_BUCKETS))
    commits: Histogram = field(default_factory=lambda: Histogram(COMMIT_BUCKETS))
    #: records behind the end, per assigned source partition
    partition_lag: dict[TopicPartition, int] = field(default_factory=dict)
    #: keys per table in this worker's partitions (refreshed once a second when observed)
    table_sizes: dict[str, int] = field(default_factory=dict)
    #: late events dropped per windowed table (every window they fall in was closed)
    late_dropped: dict[str, int] = field(default_factory=dict)
    #: changelog replay per table partition: (table, partition) -> (done, total)
    recovery: dict[tuple[str, int], tuple[int, int]] = field(default_factory=dict)
    #: changelog records each standby replica has not read yet: (table, partition) -> count
    standby_lag: dict[tuple[str, int], int] = field(default_factory=dict)
    rebalances: int = 0
    #: times the worker waited for a broker that went away
    broker_outages: int = 0
    #: True once the first assignment's tables are recovered (``/readyz``)
    ready: bool = False
    #: count per-event figures (the latency histogram): set when metrics are served
    detailed: bool = False
    #: changelog topic -> table name (outputs on these are counted per table)
    changelogs: dict[str, str] = field(default_factory=dict)
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

    def batch(self, messages: list[Message]) -> Counter[str]:
        """Count a processed batch: records per topic and, when ``detailed``, each event's
        latency from its timestamp (milliseconds since the epoch) to now, in seconds.
        Returns the batch's records per topic. (Events per agent are counted as they are
        fed: ``dispatch``.)"""
        per_topic = Counter(map(_TOPIC, messages))  # a C loop over the records
        self.received.update(per_topic)
        if self.detailed:
            now = time.time() * 1000.0
            observe = self.latency.observe
            for m in messages:
                if m.timestamp:
                    observe(max(0.0, now - m.timestamp) / 1000.0)
        return per_topic

    def flushed(self, metadata: Iterable[RecordMetadata]) -> None:
        """Count the records a commit wrote: per output topic, or per table's changelog."""
        changelogs = self.changelogs
        for topic, n in Counter(map(_TOPIC, metadata)).items():
            table = changelogs.get(topic)
            if table is None:
                self.sent[topic] += n
            else:
                self.changelog_records[table] += n

    def parked(self, action: str, who: str, exc: BaseException) -> None:
        """A record sent to a dead-letter topic (``dead_letter``) or left out (``skip``)."""
        reason = type(exc).__name__
        self.dead_letters[(action, reason)] += 1
        self.last_reasons.append((time.time(), who, reason, str(exc)[:300]))


def partition_lag(
    consumer: Consumer, exclude: frozenset[str] = frozenset()
) -> dict[TopicPartition, int] | None:
    """Records between ``consumer``'s positions and the ends of its partitions, per
    partition, leaving out the topics in ``exclude`` (None: none assigned). Raises what
    the consumer raises (``BrokerUnavailable``)."""
    assignment = {tp for tp in consumer.assignment() if tp.topic not in exclude}
    if not assignment:
        return None
    ends = consumer.end_offsets(assignment)
    return {tp: max(0, end - consumer.position(tp)) for tp, end in ends.items()}


def lag(consumer: Consumer, exclude: frozenset[str] = frozenset()) -> int | None:
    """The sum of :func:`partition_lag` (None: no partition assigned)."""
    per = partition_lag(consumer, exclude)
    return None if per is None else sum(per.values())


def drained(consumer: Consumer, sources: set[TopicPartition]) -> bool:
    """The group's input is drained: ``consumer``'s partitions read to their ends, and
    the other ``sources`` partitions committed to theirs (a dead member's are waited for)."""
    assignment = consumer.assignment()
    if assignment:
        ends = consumer.end_offsets(assignment)
        if any(consumer.position(tp) < end for tp, end in ends.items()):
            return False
    others = sources - assignment
    if not others:
        return True
    ends = consumer.end_offsets(others)
    return all((consumer.committed(tp) or 0) >= end for tp, end in ends.items())
