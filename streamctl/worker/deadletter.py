"""Dead letters: records the worker parks instead of stopping, with what was wrong.

A record that cannot be decoded, or whose ``group_by`` key cannot be computed, goes
to the dead-letter topics of its source topic and of the agents reading it, as it
came, with headers saying why and where it was. With no dead-letter topic the
worker stops instead (the caller raises), naming the record.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from streamctl.agents import Agent
from streamctl.context import Context
from streamctl.exceptions import DecodeError
from streamctl.topics import Topic
from streamctl.transport.base import Message
from streamctl.worker.stats import WorkerStats

log = logging.getLogger("streamctl.worker")


class DeadLetters:
    """Sends records to dead-letter topics and counts them in the worker's stats."""

    def __init__(self, context: Context, stats: WorkerStats) -> None:
        self.context = context
        self.stats = stats

    @staticmethod
    def targets(topic: Topic, agents: Iterable[Agent]) -> set[str]:
        """The dead-letter topics of a source topic and of the agents reading it."""
        targets = {topic.dead_letter} if topic.dead_letter else set()
        for agent in agents:
            if agent.dead_letter:
                targets.add(agent.dead_letter)
        return targets

    def send(self, targets: set[str], m: Message, exc: Exception) -> None:
        """The record as it came, with headers saying what was wrong and where it was."""
        headers = [
            *m.headers,
            ("streamctl.error", str(exc).encode()),
            ("streamctl.error.type", type(exc).__name__.encode()),
            ("streamctl.source.topic", m.topic.encode()),
            ("streamctl.source.partition", str(m.partition).encode()),
            ("streamctl.source.offset", str(m.offset).encode()),
        ]
        send = self.context.producer.send
        for target in sorted(targets):
            send(target, m.key, m.value, headers=headers, timestamp=m.timestamp)
        self.stats.dead_lettered += 1

    def undecodable(
        self, topic: Topic, agents: Iterable[Agent], bad: list[tuple[Message, DecodeError]]
    ) -> None:
        """Park records of ``topic`` that did not decode, or raise DecodeError for the first."""
        targets = self.targets(topic, agents)
        if not targets:
            m, exc = bad[0]
            raise DecodeError(
                f"cannot decode {m.topic}[{m.partition}]@{m.offset}: {exc} "
                "(give the topic or agent a dead_letter topic to park bad records and go on)"
            )
        for m, exc in bad:
            self.send(targets, m, exc)
        log.warning(
            "%d record(s) of %s could not be decoded; sent to %s (first: @%d %s)",
            len(bad),
            topic.name,
            ", ".join(sorted(targets)),
            bad[0][0].offset,
            bad[0][1],
        )
