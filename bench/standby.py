"""Takeover with and without a standby replica: the recovery part of a failover on Kafka.

A table partition's changelog holds RECORDS records (distinct keys). The worker that
takes the partition over either rebuilds it from the whole changelog (no standby), or
promotes a standby that followed the changelog and is TAIL records behind when the
owner dies. Timed: ``TableManager.assign`` of the partition, which returns once the
partition's store is ready for its first event. Not timed: producing the changelog and
warming the standby. The rest of a failover is Kafka noticing the dead member (its
session timeout, ``session_timeout_ms``, 10 s by default) and the rebalance.

    .venv/bin/python bench/standby.py --bootstrap 127.0.0.1:19092 --records 100000
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from streamctl.app import App
from streamctl.tables.manager import TableManager


def fill(app: App, table: object, start: int, count: int) -> None:
    codec = table._codec  # type: ignore[attr-defined]
    producer = app.producer
    topic = table.changelog_name  # type: ignore[attr-defined]
    for i in range(start, start + count):
        producer.send(topic, codec.encode_key(f"k{i}"), codec.dump_value(i), partition=1)
    producer.flush()


def takeover(bootstrap: str, app_id: str, standby: bool, records: int, tail: int) -> float:
    """Seconds ``assign`` of partition 1 takes, in a fresh data dir."""
    with tempfile.TemporaryDirectory() as tmp:
        app = App(app_id, broker=f"kafka://{bootstrap}", datadir=Path(tmp))
        table = app.Table("t", default=int, partitions=2)
        manager = TableManager([table], standby_replicas=1 if standby else 0)
        manager.start(app.transport, {})
        manager.assign({0})
        if standby:
            manager.set_standbys({1})
            while manager.follow_standbys() or any(manager.standby_lag().values()):
                pass
            fill(app, table, records, tail)  # the owner wrote on; the standby missed it
        started = time.perf_counter()
        manager.assign({0, 1})
        took = time.perf_counter() - started
        assert len(table) == records + (tail if standby else 0)
        manager.close()
        app.close()
        return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", default="127.0.0.1:19092")
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--tail", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    app_id = f"bench-standby-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp:
        app = App(app_id, broker=f"kafka://{args.bootstrap}", datadir=Path(tmp))
        table = app.Table("t", default=int, partitions=2)
        app.ensure_topics()
        app.transport.create_topics([table.changelog_spec()])
        fill(app, table, 0, args.records)
        app.close()
    for standby in (False, True):
        times = []
        for _ in range(args.repeat):
            times.append(takeover(args.bootstrap, app_id, standby, args.records, args.tail))
            if standby:  # the next run's standby starts from the same changelog length
                args.records += args.tail
        label = f"standby ({args.tail:,} behind)" if standby else "rebuild (no standby)"
        print(
            f"{label:28s} median {statistics.median(times):.3f}s "
            f"range {min(times):.3f}-{max(times):.3f}s over {args.repeat} runs"
        )


if __name__ == "__main__":
    main()
