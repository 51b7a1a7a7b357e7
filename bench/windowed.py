"""(w) A windowed count: tumbling 1-minute windows per key, final counts emitted on close.

The input is the bench's events, sent again to their own topic with record timestamps
spread evenly over one hour of event time (producing it is not timed), so the count
closes 59 windows per key as stream time moves, and the last as the input ends
(``until_idle``), and emits each once.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from streamctl.app import App

HOUR_MS = 3_600_000
#: 2026-12-07T00:00:00Z, in milliseconds
T0_MS = 1_796_601_600_000

PIPELINE = """
app: bench-windowed
topics:
  wevents: {partitions: %(partitions)d, key_type: str}
  wclosed: {partitions: %(partitions)d, key_type: str}
tables:
  per_minute:
    default: int
    window: {tumbling: 1m}
    emit: {on: close, to: wclosed}
agents:
  count:
    from: wevents
    steps:
      - count: per_minute
settings: {processing_guarantee: at_least_once}
"""


def produce(datadir: Path, events: int, partitions: int, keys: int, make_event) -> None:
    app = App("bench-wfeeder", datadir=datadir)
    app.topic("wevents", partitions=partitions, key_type=str)
    app.ensure_topics()
    send, dumps = app.producer.send, json.dumps
    for i in range(events):
        send(
            "wevents",
            f"customer-{i % keys:04d}".encode(),
            dumps(make_event(i), separators=(",", ":")).encode(),
            timestamp=T0_MS + i * HOUR_MS // events,
        )
        if i % 50_000 == 49_999:
            app.producer.flush()
    app.producer.flush()
    app.close()


def windowed(datadir: Path, events: int, *, partitions: int, keys: int, make_event) -> float:
    """Events/s of the windowed count; checks every closed window was emitted once."""
    from streamctl.pipeline import load_pipeline
    from streamctl.testing import read_topic

    produce(datadir, events, partitions, keys, make_event)
    path = datadir / "windowed.yaml"
    path.write_text(PIPELINE % {"partitions": partitions})
    app = load_pipeline(path, datadir=datadir).app
    start = time.perf_counter()
    worker = app.worker(until_idle=True, install_signal_handlers=False)
    worker.run()
    elapsed = time.perf_counter() - start
    if worker.stats.processed < events:
        raise SystemExit(f"windowed: processed only {worker.stats.processed} of {events}")
    closed = read_topic(app, "wclosed", timeout=120)
    seen = {(e.key, e.value["window"]["start"]) for e in closed}
    if len(seen) != len(closed) or sum(e.value["value"] for e in closed) != events:
        # until_idle closes the last windows too: every event is in one emitted count
        raise SystemExit("windowed: a window was emitted twice, or an event not counted once")
    return worker.stats.processed / elapsed
