"""Prometheus metrics of a worker: a collector over its stats, in a registry of its own.

Nothing is counted twice: the collector reads :class:`~streamctl.worker.WorkerStats` at
each scrape and exposes it in Prometheus' text format (``prometheus_client``). Each
worker gets its own ``CollectorRegistry`` (never the process-wide default), so several
workers in one process (tests, an embedding app) do not clash.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from streamctl.worker import WorkerStats
from streamctl.worker.stats import Histogram

#: the exposition's media type (Prometheus text format 0.0.4)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _counter(name: str, doc: str, labels: list[str], values: dict[Any, Any]) -> Metric:
    family = CounterMetricFamily(name, doc, labels=labels)
    for key, value in sorted(values.items()):
        family.add_metric([str(k) for k in (key if isinstance(key, tuple) else (key,))], value)
    return family


def _gauge(name: str, doc: str, labels: list[str], values: dict[Any, Any]) -> Metric:
    family = GaugeMetricFamily(name, doc, labels=labels)
    for key, value in sorted(values.items()):
        family.add_metric([str(k) for k in (key if isinstance(key, tuple) else (key,))], value)
    return family


def _histogram(name: str, doc: str, h: Histogram) -> Metric:
    family = HistogramMetricFamily(name, doc)
    family.add_metric([], buckets=h.cumulative(), sum_value=h.sum)
    return family


class StatsCollector(Collector):
    """Every figure of one worker's stats as Prometheus metrics (see README, "Metrics")."""

    def __init__(self, stats: WorkerStats) -> None:
        self.stats = stats

    def collect(self) -> Iterator[Metric]:
        s = self.stats
        # dict(): a copy made in one step (the loop thread may be counting meanwhile)
        yield _counter(
            "streamctl_events_received",
            "Records read, per topic (source and repartition topics).",
            ["topic"],
            dict(s.received),
        )
        yield _counter(
            "streamctl_events_processed",
            "Events fed to an agent, per agent and topic.",
            ["agent", "topic"],
            dict(s.agent_events),
        )
        yield _counter(
            "streamctl_records_sent",
            "Records written per topic (outputs and dead letters), counted at commit.",
            ["topic"],
            dict(s.sent),
        )
        yield _counter(
            "streamctl_dead_letters",
            "Records parked (action dead_letter) or left out (action skip), per error type.",
            ["action", "reason"],
            dict(s.dead_letters),
        )
        yield _histogram(
            "streamctl_event_latency_seconds",
            "Seconds from an event's timestamp to the end of its batch's processing.",
            s.latency,
        )
        yield _histogram(
            "streamctl_commit_duration_seconds",
            "Seconds per commit (flush, stores, offsets); its _count is the commits made.",
            s.commits,
        )
        lag = {(tp.topic, tp.partition): n for tp, n in dict(s.partition_lag).items()}
        yield _gauge(
            "streamctl_consumer_lag",
            "Records between the worker's position and the end, per source partition.",
            ["topic", "partition"],
            lag,
        )
        yield _gauge(
            "streamctl_table_keys",
            "Keys per table in this worker's partitions.",
            ["table"],
            dict(s.table_sizes),
        )
        yield _counter(
            "streamctl_changelog_records_written",
            "Changelog records written per table.",
            ["table"],
            dict(s.changelog_records),
        )
        recovery = dict(s.recovery)
        yield _gauge(
            "streamctl_recovery_replayed_records",
            "Changelog records replayed into a table partition by its last recovery.",
            ["table", "partition"],
            {k: done for k, (done, _total) in recovery.items()},
        )
        yield _gauge(
            "streamctl_recovery_target_records",
            "Changelog records its last recovery had to replay, per table partition.",
            ["table", "partition"],
            {k: total for k, (_done, total) in recovery.items()},
        )
        yield _gauge(
            "streamctl_standby_lag",
            "Changelog records a standby replica of a table partition has not read yet.",
            ["table", "partition"],
            dict(s.standby_lag),
        )
        yield _counter(
            "streamctl_rebalances", "Partition assignments received.", [], {(): s.rebalances}
        )
        yield _counter(
            "streamctl_broker_outages",
            "Times the worker waited for a broker that went away.",
            [],
            {(): s.broker_outages},
        )
        yield _gauge("streamctl_ready", "1 once the tables are recovered.", [], {(): int(s.ready)})


def registry_for(stats: WorkerStats) -> CollectorRegistry:
    """A registry of its own holding ``stats``' collector."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StatsCollector(stats))
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    """The registry's metrics in Prometheus' text format."""
    return generate_latest(registry)
