"""Group and topic administration on Kafka, through kafka-python's KafkaAdminClient.

What ``kafka-consumer-groups.sh`` and ``kafka-topics.sh`` do, as the transport
protocol's admin methods: groups are described without joining them, offsets are
altered with ``AlterConsumerGroupOffsets`` (which Kafka accepts only while the
group has no member), offsets for times come from ``ListOffsets`` by timestamp.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from kafka import KafkaAdminClient, OffsetAndMetadata
from kafka import TopicPartition as KafkaTP
from kafka import errors as kerrors

from streamctl.transport.base import GroupInfo, GroupMember, TopicPartition
from streamctl.transport.exceptions import GroupNotEmpty, TransportError, UnknownTopic
from streamctl.transport.kafka import announce
from streamctl.transport.kafkashared import refuse_members

#: how long delete_topics waits for the controller to forget the topics (seconds)
DELETE_WAIT = 30.0


def _assigned(member: dict[str, Any]) -> frozenset[TopicPartition]:
    assignment = member.get("member_assignment") or {}
    out: set[TopicPartition] = set()
    for entry in assignment.get("assigned_partitions") or ():
        if isinstance(entry, dict):
            topic, parts = entry.get("topic"), entry.get("partitions") or ()
        else:
            topic, parts = entry[0], entry[1]
        out.update(TopicPartition(str(topic), int(p)) for p in parts)
    return frozenset(out)


def _info(group_id: str, described: dict[str, Any] | None) -> GroupInfo:
    if not described or described.get("error"):
        return GroupInfo(group_id, "Dead")
    members = tuple(
        GroupMember(
            str(m.get("member_id", "")),
            str(m.get("client_host", "")).lstrip("/"),
            str(m.get("client_id", "")),
            _assigned(m),
            frozenset((m.get("member_metadata") or {}).get("topics") or ()),
            announce.read(m.get("member_metadata")),
        )
        for m in described.get("members") or ()
    )
    return GroupInfo(group_id, str(described.get("group_state") or "Unknown"), members)


def describe_groups(admin: KafkaAdminClient, group_ids: list[str]) -> list[GroupInfo]:
    if not group_ids:
        return []
    found = admin.describe_groups(group_ids)
    return [_info(g, found.get(g)) for g in group_ids]


def list_groups(admin: KafkaAdminClient) -> list[GroupInfo]:
    """Every consumer group (protocol ``consumer`` or offsets only), described."""
    ids = sorted(
        {g["group_id"] for g in admin.list_groups() if g.get("protocol_type") in ("consumer", "")}
    )
    return describe_groups(admin, ids)


def group_offsets(admin: KafkaAdminClient, group_id: str) -> dict[TopicPartition, int]:
    found = admin.list_group_offsets(group_id).get(group_id) or {}
    return {
        TopicPartition(tp.topic, tp.partition): int(oam.offset)
        for tp, oam in found.items()
        if oam.offset >= 0
    }


def alter_group_offsets(
    admin: KafkaAdminClient, group_id: str, offsets: Mapping[TopicPartition, int], where: str
) -> None:
    """Refuse a group with members (Kafka would fail their partitions one by one), then
    commit every offset in one OffsetCommit request."""
    refuse_members(describe_groups(admin, [group_id])[0])
    if not offsets:
        return
    topics = set(admin.list_topics())
    for tp in offsets:
        if tp.topic not in topics:
            raise UnknownTopic(f"topic {tp.topic!r} does not exist on Kafka at {where}")
    result = admin.alter_group_offsets(
        group_id,
        {
            KafkaTP(tp.topic, tp.partition): OffsetAndMetadata(off, "", -1)
            for tp, off in offsets.items()
        },
    )
    failed = {tp: err for tp, err in result.items() if err is not kerrors.NoError}
    if failed:
        tp, err = next(iter(failed.items()))
        if err in (kerrors.UnknownMemberIdError, kerrors.RebalanceInProgressError):
            raise GroupNotEmpty(
                f"consumer group {group_id!r} gained a member while its offsets were reset: "
                "stop its workers and try again"
            )
        raise TransportError(
            f"reset offsets of group {group_id!r} on Kafka at {where}: "
            f"{tp.topic}[{tp.partition}] failed: {err.__name__}"
        )


def offsets_for_times(
    admin: KafkaAdminClient, timestamps: Mapping[TopicPartition, int]
) -> dict[TopicPartition, int | None]:
    if not timestamps:
        return {}
    found = admin.list_partition_offsets(
        {KafkaTP(tp.topic, tp.partition): int(ts) for tp, ts in timestamps.items()}
    )
    out: dict[TopicPartition, int | None] = {}
    for tp in timestamps:
        hit = found.get(KafkaTP(tp.topic, tp.partition))
        out[tp] = None if hit is None or hit.offset < 0 else int(hit.offset)
    return out


def delete_topics(admin: KafkaAdminClient, names: Iterable[str], where: str) -> None:
    """Delete the topics, then wait until the cluster no longer lists them (Kafka deletes
    asynchronously; a topic created again too early would be refused)."""
    names = list(names)
    existing = set(admin.list_topics())
    missing = [n for n in names if n not in existing]
    if missing:
        raise UnknownTopic(f"topic {missing[0]!r} does not exist on Kafka at {where}")
    admin.delete_topics(names)
    deadline = time.monotonic() + DELETE_WAIT
    while set(names) & set(admin.list_topics()):
        if time.monotonic() > deadline:
            raise TransportError(
                f"Kafka at {where} accepted the deletion of {', '.join(names)} but still "
                f"lists them after {DELETE_WAIT:.0f}s"
            )
        time.sleep(0.2)
