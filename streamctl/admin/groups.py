"""Consumer groups from outside their workers: lag per partition, and offset resets
(what ``streamctl group`` runs).

Resets follow ``kafka-consumer-groups.sh --reset-offsets``: a group with live
members is refused; the plan (current -> new offset per partition) is computed
first and applied only on request; every new offset is clamped to the
partition's [earliest, latest] range; ``to-datetime`` takes the first offset
whose timestamp is at or after the time (offsets for times), or the end when
none is. Two choices differ, for streamctl's apps:

- ``shift`` from a partition without a committed offset starts from the
  earliest offset, where the group's worker would start (Kafka refuses);
- without ``topics``, the scope is every partition the group committed plus
  the app's source topics, and the app's internal repartition topics move to
  their end, as Kafka Streams' application reset tool does with intermediate
  topics: the reprocessed input writes their records again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from streamctl.exceptions import ConfigurationError
from streamctl.naming import is_repartition_topic
from streamctl.transport.base import GroupInfo, GroupMember, TopicPartition, Transport
from streamctl.transport.exceptions import GroupNotEmpty

#: the ways to pick new offsets (``--to-earliest`` ... ``--to-offset``)
MODES = ("earliest", "latest", "datetime", "shift", "offset")


@dataclass(slots=True, frozen=True)
class PartitionLag:
    """One partition of a group: committed offset (None: none yet), log start and end,
    lag (records left: end minus committed, else minus start) and its holder."""

    topic: str
    partition: int
    committed: int | None
    start: int
    end: int
    internal: bool = False
    member: str | None = None

    @property
    def lag(self) -> int:
        return max(0, self.end - (self.start if self.committed is None else self.committed))


@dataclass(slots=True, frozen=True)
class GroupView:
    """A group's state, members and partitions (sorted by topic and partition)."""

    group_id: str
    state: str
    members: tuple[GroupMember, ...] = ()
    partitions: tuple[PartitionLag, ...] = field(default_factory=tuple)

    @property
    def lag(self) -> int:
        """Records left in the source topics (internal repartition traffic not counted)."""
        return sum(p.lag for p in self.partitions if not p.internal)


@dataclass(slots=True, frozen=True)
class PlanRow:
    """One partition of a reset plan: its committed offset now and the one it gets."""

    topic: str
    partition: int
    current: int | None
    new: int
    note: str = ""


def _partitions(transport: Transport, topics: Iterable[str]) -> list[TopicPartition]:
    specs = transport.list_topics()
    return [
        TopicPartition(name, p)
        for name in sorted(set(topics))
        if name in specs
        for p in range(specs[name].partitions)
    ]


def _watermarks(
    transport: Transport, tps: list[TopicPartition]
) -> tuple[dict[TopicPartition, int], dict[TopicPartition, int]]:
    if not tps:
        return {}, {}
    consumer = transport.consumer(None)
    try:
        return consumer.beginning_offsets(tps), consumer.end_offsets(tps)
    finally:
        consumer.close()


def _holder(info: GroupInfo, tp: TopicPartition) -> str | None:
    for m in info.members:
        if tp in m.partitions:
            return str(m)
    # the embedded broker's one member reads every partition of its group
    if len(info.members) == 1 and not info.members[0].partitions:
        return str(info.members[0])
    return None


def describe(transport: Transport, group_id: str, topics: Iterable[str] = ()) -> GroupView:
    """The group's state, members and, per partition it committed or of ``topics`` (the
    app's sources), committed offset, end offset and lag. Reads only: never joins."""
    info = transport.describe_group(group_id)
    committed = transport.group_offsets(group_id)
    tps = sorted(set(committed) | set(_partitions(transport, topics)))
    starts, ends = _watermarks(transport, tps)
    rows = tuple(
        PartitionLag(
            tp.topic,
            tp.partition,
            committed.get(tp),
            starts[tp],
            ends[tp],
            is_repartition_topic(group_id, tp.topic),
            _holder(info, tp),
        )
        for tp in tps
    )
    return GroupView(group_id, info.state, info.members, rows)


def refuse_if_live(transport: Transport, group_id: str) -> None:
    """GroupNotEmpty, in one line, while the group has live members."""
    info = transport.describe_group(group_id)
    if info.members:
        raise GroupNotEmpty(
            f"cannot reset the offsets of group {group_id!r} while it has live members "
            f"({', '.join(map(str, info.members))}): stop its workers first"
        )


def _scope(
    transport: Transport,
    group_id: str,
    committed: Mapping[TopicPartition, int],
    topics: list[str],
    partitions: list[int],
    app_topics: Iterable[str],
) -> list[TopicPartition]:
    specs = transport.list_topics()
    if partitions and len(topics) != 1:
        raise ConfigurationError("--partition needs exactly one --topic")
    if topics:
        for name in topics:
            if name not in specs:
                raise ConfigurationError(
                    f"topic {name!r} does not exist (see: streamctl topic list)"
                )
        if partitions:
            count = specs[topics[0]].partitions
            bad = [p for p in partitions if not 0 <= p < count]
            if bad:
                raise ConfigurationError(
                    f"topic {topics[0]!r} has no partition {bad[0]} (it has {count}: 0..{count - 1})"
                )
            return [TopicPartition(topics[0], p) for p in sorted(set(partitions))]
        return _partitions(transport, topics)
    tps = sorted(set(committed) | set(_partitions(transport, app_topics)))
    if not tps:
        raise ConfigurationError(
            f"group {group_id!r} has no committed offsets to reset; name the topics with --topic"
        )
    return tps


def plan_reset(
    transport: Transport,
    group_id: str,
    mode: str,
    value: int | None = None,
    *,
    topics: list[str] | None = None,
    partitions: list[int] | None = None,
    app_topics: Iterable[str] = (),
) -> list[PlanRow]:
    """The new offset of every partition in scope; changes nothing.

    ``mode`` is one of :data:`MODES`; ``value`` is the time in milliseconds since the
    epoch for ``datetime``, the (signed) count for ``shift``, the offset for ``offset``.
    Raises ConfigurationError for a scope that names no partition.
    """
    if mode not in MODES:
        raise ConfigurationError(f"unknown reset mode {mode!r} (one of {', '.join(MODES)})")
    committed = transport.group_offsets(group_id)
    explicit = list(topics or [])
    tps = _scope(transport, group_id, committed, explicit, list(partitions or []), app_topics)
    starts, ends = _watermarks(transport, tps)
    by_time: dict[TopicPartition, int | None] = {}
    if mode == "datetime":
        assert value is not None
        by_time = transport.offsets_for_times(dict.fromkeys(tps, value))
    rows = []
    for tp in tps:
        start, end, current = starts[tp], ends[tp], committed.get(tp)
        note = ""
        if is_repartition_topic(group_id, tp.topic) and tp.topic not in explicit:
            wanted, note = end, "internal: to its end"
        elif mode == "earliest":
            wanted = start
        elif mode == "latest":
            wanted = end
        elif mode == "datetime":
            found = by_time.get(tp)
            wanted = end if found is None else found
            if found is None:
                note = "no record that late: to its end"
        elif mode == "shift":
            assert value is not None
            wanted = (start if current is None else current) + value
        else:
            assert value is not None
            wanted = value
        new = min(max(wanted, start), end)
        if new != wanted:
            note = f"{wanted} clamped to {'earliest' if new == start else 'latest'}"
        rows.append(PlanRow(tp.topic, tp.partition, current, new, note))
    return rows


def parse_datetime(text: str) -> int:
    """``2026-11-30T05:00:00`` (local time, as kafka-consumer-groups.sh), with ``Z`` or
    ``+01:00`` for another zone, or a date alone -> milliseconds since the epoch.

    Raises ConfigurationError for anything else.
    """
    from datetime import datetime

    raw = text.strip()
    try:
        when = datetime.fromisoformat(raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw)
    except ValueError:
        raise ConfigurationError(
            f"--to-datetime {text!r} is not a date and time; use ISO 8601, e.g. "
            "2026-11-30T05:00:00 (local time), 2026-11-30T05:00:00Z or 2026-11-30"
        ) from None
    return int(when.timestamp() * 1000)  # a naive time is local time, as Kafka's tool takes it


def execute(transport: Transport, group_id: str, plan: list[PlanRow]) -> None:
    """Commit the plan's offsets for the group, all or none (refused while it has members)."""
    transport.alter_group_offsets(
        group_id, {TopicPartition(r.topic, r.partition): r.new for r in plan}
    )
