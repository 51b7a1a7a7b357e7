"""Worker statistics: events processed, dead-lettered, the rate and the lag (the status
line); and where the consumer stands against the ends of the input (lag, drained)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from streamctl.transport.base import Consumer, TopicPartition


@dataclass
class WorkerStats:
    """What the status line shows.

    ``processed`` and ``lag`` count source events only: an event that an agent
    repartitions (``group_by``) is read again from an internal topic, and those reads
    are counted apart, in ``repartitioned``.
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


def lag(consumer: Consumer, exclude: frozenset[str] = frozenset()) -> int | None:
    """Records between ``consumer``'s positions and the ends of its partitions, leaving
    out the topics in ``exclude`` (None: none assigned). Raises what the consumer raises
    (``BrokerUnavailable``)."""
    assignment = {tp for tp in consumer.assignment() if tp.topic not in exclude}
    if not assignment:
        return None
    ends = consumer.end_offsets(assignment)
    return sum(max(0, end - consumer.position(tp)) for tp, end in ends.items())


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
