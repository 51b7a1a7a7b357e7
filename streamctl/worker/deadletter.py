"""Dead letters: records the worker parks or skips instead of stopping, with what was wrong.

A record that cannot be decoded, or that an agent fails on (a step, a plugin agent, a
``group_by`` key, a table value that cannot be encoded), is handled by the policy of
its topic (decoding) or agent (processing), as Kafka Streams' exception handlers and
Redpanda Connect's ``catch`` do:

- ``dead_letter``: sent to the dead-letter topic as it came (its key, value bytes and
  headers) plus ``streamctl.*`` headers naming the error, its type, the agent, the step
  and its YAML line, and the source topic, partition and offset;
- ``skip``: counted and left out;
- ``stop``: the worker stops, naming the record (the caller raises).

Warnings are summarized: one log line per :data:`REPORT_INTERVAL` seconds (and one when
the worker stops) with counts per agent, action and error type, not one per batch.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable

from streamctl.agents import Agent
from streamctl.context import Context
from streamctl.errorpolicy import Blame
from streamctl.exceptions import DecodeError
from streamctl.topics import Topic
from streamctl.transport.base import Message
from streamctl.worker.stats import WorkerStats

log = logging.getLogger("streamctl.worker")

#: seconds between two summary lines of parked and skipped records
REPORT_INTERVAL = 5.0


#: headers a record forwarded by ``group_by`` carries when its agent parks failures:
#: the source record's topic, partition, offset and key (absent: a null key)
ORIGIN = ("streamctl.origin.topic", "streamctl.origin.partition", "streamctl.origin.offset")
ORIGIN_KEY = "streamctl.origin.key"


def with_origin(m: Message) -> list[tuple[str, bytes]]:
    """``m``'s headers plus where it came from (see :func:`original`)."""
    headers = [
        *m.headers,
        (ORIGIN[0], m.topic.encode()),
        (ORIGIN[1], str(m.partition).encode()),
        (ORIGIN[2], str(m.offset).encode()),
    ]
    if m.key is not None:
        headers.append((ORIGIN_KEY, m.key))
    return headers


def original(m: Message) -> Message:
    """The source record a repartitioned record came from (``m`` itself if it has no
    origin headers): its topic, partition, offset, key and headers."""
    found = dict(m.headers)
    if ORIGIN[0] not in found:
        return m
    drop = {*ORIGIN, ORIGIN_KEY}
    try:
        return Message(
            found[ORIGIN[0]].decode(),
            int(found[ORIGIN[1]]),
            int(found[ORIGIN[2]]),
            found.get(ORIGIN_KEY),
            m.value,
            m.timestamp_ms,
            [(k, v) for k, v in m.headers if k not in drop],
        )
    except (KeyError, ValueError, UnicodeDecodeError):
        return m  # not headers streamctl wrote: park the record as it is


class DeadLetters:
    """Parks or skips records, counts them in the worker's stats and logs a summary."""

    def __init__(self, context: Context, stats: WorkerStats) -> None:
        self.context = context
        self.stats = stats
        #: (who, what was done, error type) -> records since the last summary line
        self.counts: Counter[tuple[str, str, str]] = Counter()
        self._last_report = time.monotonic()

    @staticmethod
    def targets(topic: Topic, agents: Iterable[Agent]) -> set[str]:
        """The dead-letter topics of a source topic and of the agents reading it."""
        targets = {topic.dead_letter} if topic.dead_letter else set()
        for agent in agents:
            if agent.dead_letter:
                targets.add(agent.dead_letter)
        return targets

    def send(
        self,
        targets: set[str],
        m: Message,
        exc: BaseException,
        *,
        agent: str | None = None,
        step: Blame | None = None,
    ) -> None:
        """The record as it came, with headers saying what was wrong and where it was
        (a record repartitioned by ``group_by``: the source record it came from)."""
        m = original(m)
        headers = [
            *m.headers,
            ("streamctl.error", str(exc).encode()),
            ("streamctl.error.type", type(exc).__name__.encode()),
        ]
        if agent is not None:
            headers.append(("streamctl.agent", agent.encode()))
        if step is not None:
            headers.append(("streamctl.step", step[0].encode()))
            headers.append(("streamctl.step.where", step[1].encode()))
        headers += [
            ("streamctl.source.topic", m.topic.encode()),
            ("streamctl.source.partition", str(m.partition).encode()),
            ("streamctl.source.offset", str(m.offset).encode()),
        ]
        send = self.context.producer.send
        for target in sorted(targets):
            send(target, m.key, m.value, headers=headers, timestamp=m.timestamp_ms)
        self.stats.dead_lettered += 1
        who = f"agent {agent!r}" if agent is not None else f"topic {m.topic}"
        self.stats.parked("dead_letter", who, exc)
        self.counts[(who, "sent to " + ", ".join(sorted(targets)), type(exc).__name__)] += 1

    def skip(self, who: str, exc: BaseException) -> None:
        """Count a record left out (``on_error: skip``)."""
        self.stats.skipped += 1
        self.stats.parked("skip", who, exc)
        self.counts[(who, "skipped", type(exc).__name__)] += 1

    def undecodable(
        self, topic: Topic, agents: Iterable[Agent], bad: list[tuple[Message, DecodeError]]
    ) -> None:
        """Park (or skip) records of ``topic`` that did not decode, per the topic's
        ``on_error``; or raise DecodeError for the first."""
        targets = self.targets(topic, agents)
        policy = topic.on_error or ("dead_letter" if targets else "stop")
        if policy == "stop":
            m, exc = bad[0]
            raise DecodeError(
                f"cannot decode {m.topic}[{m.partition}]@{m.offset}: {exc} "
                "(give the topic or agent a dead_letter topic, or on_error: skip, "
                "to go on past bad records)"
            )
        for m, exc in bad:
            if policy == "skip":
                self.skip(f"topic {topic.name}", exc)
            else:
                self.send(targets, m, exc, step=("decode", topic.name))
        self.report()

    def report(self, *, force: bool = False) -> None:
        """Log one summary line of what was parked or skipped, at most every
        :data:`REPORT_INTERVAL` seconds (``force``: now, as the worker stops)."""
        if not self.counts:
            return
        now = time.monotonic()
        if not force and now - self._last_report < REPORT_INTERVAL:
            return
        self._last_report = now
        per: dict[tuple[str, str], list[str]] = {}
        totals: Counter[tuple[str, str]] = Counter()
        for (who, action, reason), n in sorted(self.counts.items()):
            per.setdefault((who, action), []).append(f"{reason} {n}")
            totals[(who, action)] += n
        self.counts.clear()
        parts = [
            f"{who}: {totals[(who, action)]} {action} ({', '.join(reasons)})"
            for (who, action), reasons in per.items()
        ]
        log.warning("records not processed: %s", "; ".join(parts))
