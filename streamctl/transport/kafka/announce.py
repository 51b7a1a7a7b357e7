"""A worker's announcement in its Kafka consumer group: the member metadata's user data.

Faust puts each worker's URL in its assignor's member metadata, and Kafka Streams its
``application.server``; here the partition assignors a consumer uses (kafka-python's
range and round-robin, its defaults) are wrapped so each member's subscription carries
the text given to ``KafkaTransport.announce``. The assignment is unchanged (same
assignor names and logic), so members that announce nothing join the same group.
``describe_group`` reads it back (``GroupMember.announced``).
"""

from __future__ import annotations

from typing import Any

from kafka.coordinator.assignors.range import RangePartitionAssignor
from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
from kafka.protocol.consumer.metadata import ConsumerProtocolSubscription

#: the assignors whose member metadata carries no user data of their own
_PLAIN = (RangePartitionAssignor, RoundRobinPartitionAssignor)


def strategies(configured: Any, announced: str) -> list[Any]:
    """``configured`` (kafka-python's ``partition_assignment_strategy``), each plain
    assignor replaced by one whose member metadata carries ``announced`` (UTF-8). An
    assignor with user data of its own (sticky) is kept as it is: it announces nothing."""
    data = announced.encode()
    out = []
    for assignor in configured:
        if isinstance(assignor, type) and issubclass(assignor, _PLAIN):

            def metadata(cls: Any, topics: Any) -> ConsumerProtocolSubscription:
                return ConsumerProtocolSubscription(cls.version, list(topics), cls.announced)

            assignor = type(
                f"Announcing{assignor.__name__}",
                (assignor,),
                {"announced": data, "metadata": classmethod(metadata)},
            )
        out.append(assignor)
    return out


def read(metadata: Any) -> str:
    """The announcement in a described member's metadata ("" for none)."""
    data = (metadata or {}).get("user_data") if isinstance(metadata, dict) else None
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return data if isinstance(data, str) else ""
