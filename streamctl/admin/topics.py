"""Create and delete topics from outside any worker (what ``streamctl topic create|delete`` runs).

A topic is deleted with its records and the groups' committed offsets on it
(Kafka: ``DeleteTopics``, and the call returns once the cluster no longer lists
it). Deletion is refused while a worker that reads it runs, as far as the broker
can tell: a group with live members that holds, subscribed to or committed
offsets on the topic, or whose app the topic is named after (its changelog and
repartition topics).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from streamctl.exceptions import ConfigurationError, StreamctlError
from streamctl.naming import is_derived_topic
from streamctl.transport.base import TopicPartition, TopicSpec, Transport

#: Kafka's rule for topic names (kafka-topics.sh refuses the others)
TOPIC_NAME = re.compile(r"[A-Za-z0-9._-]{1,249}")


class TopicExists(StreamctlError):
    """``topic create`` of a topic that already exists."""


class TopicInUse(StreamctlError):
    """``topic delete`` of a topic that a running worker reads."""


def check_name(name: str) -> None:
    """ConfigurationError unless ``name`` is a legal Kafka topic name (both brokers)."""
    if not TOPIC_NAME.fullmatch(name) or name in (".", ".."):
        raise ConfigurationError(
            f"{name!r} is not a valid topic name: 1 to 249 of the characters a-z A-Z 0-9 . _ -"
        )


def create(
    transport: Transport, name: str, partitions: int, *, compacted: bool = False
) -> TopicSpec:
    """Create one topic; TopicExists if it is there already (with its partition count)."""
    check_name(name)
    if partitions < 1:
        raise ConfigurationError(f"topic {name!r}: --partitions must be 1 or more")
    existing = transport.list_topics().get(name)
    if existing is not None:
        raise TopicExists(
            f"topic {name!r} already exists ({existing.partitions} partition(s)"
            f"{', compacted' if existing.compacting else ''})"
        )
    spec = TopicSpec(name, partitions, compacting=compacted)
    transport.create_topics([spec])
    return spec


def record_count(transport: Transport, name: str) -> int:
    """How many records the topic holds (end minus start offsets); UnknownTopic-free: 0."""
    spec = transport.list_topics().get(name)
    if spec is None:
        return 0
    tps = [TopicPartition(name, p) for p in range(spec.partitions)]
    consumer = transport.consumer(None)
    try:
        starts, ends = consumer.beginning_offsets(tps), consumer.end_offsets(tps)
    finally:
        consumer.close()
    return sum(ends[tp] - starts[tp] for tp in tps)


def readers(transport: Transport, name: str, app_ids: Iterable[str] = ()) -> list[str]:
    """The running workers that read ``name``, as ``group 'g' (member ...)``.

    ``app_ids``: groups known to read it (from a pipeline), checked even when the
    broker has no trace of the topic in them yet.
    """
    known = set(app_ids)
    out = []
    for group in transport.list_groups():
        if not group.members:
            continue
        reads = (
            group.group_id in known
            or is_derived_topic(group.group_id, name)
            or any(
                name in m.topics or any(tp.topic == name for tp in m.partitions)
                for m in group.members
            )
            or any(tp.topic == name for tp in transport.group_offsets(group.group_id))
        )
        if reads:
            members = ", ".join(map(str, group.members))
            out.append(f"group {group.group_id!r} ({members})")
    return out


def check_deletable(transport: Transport, name: str, app_ids: Iterable[str] = ()) -> None:
    """ConfigurationError if the topic is missing, TopicInUse while a reader runs."""
    if name not in transport.list_topics():
        raise ConfigurationError(f"topic {name!r} does not exist (see: streamctl topic list)")
    running = readers(transport, name, app_ids)
    if running:
        raise TopicInUse(
            f"cannot delete topic {name!r} while a worker that reads it runs "
            f"({'; '.join(running)}): stop it first"
        )


def delete(transport: Transport, name: str, app_ids: Iterable[str] = ()) -> None:
    """Delete one topic, after :func:`check_deletable`."""
    check_deletable(transport, name, app_ids)
    transport.delete_topics([name])
