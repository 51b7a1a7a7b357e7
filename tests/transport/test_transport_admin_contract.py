"""The transport contract, admin part: groups and topics administered from outside a group.

Every implementation (local, kafka against the real broker, memory) passes the
same cases: list and describe groups without joining them, read and alter their
committed offsets (refused while a member is live), offsets for times, delete topics.
"""

from __future__ import annotations

import time

import pytest

from streamctl.transport import TopicPartition, TopicSpec, Transport
from streamctl.transport.exceptions import GroupNotEmpty, UnknownTopic


def fill(transport: Transport, topic: str, stamps: list[list[int]]) -> None:
    """Records with the given timestamps (ms), partition by partition."""
    transport.create_topics([TopicSpec(topic, partitions=len(stamps))])
    producer = transport.producer()
    for p, times in enumerate(stamps):
        for i, ts in enumerate(times):
            producer.send(topic, b"k", b"%d" % i, partition=p, timestamp=ts)
    producer.flush()
    producer.close()


def wait_for(check, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


@pytest.mark.timeout(120)
class TestTransportAdminContract:
    def test_group_offsets_read_and_altered_without_joining(
        self, transport: Transport, topic_name, run_id
    ) -> None:
        topic, group = topic_name("adm"), f"adm-g-{run_id}"
        fill(transport, topic, [[1000, 2000, 3000], [1000]])
        assert transport.group_offsets(group) == {}
        assert transport.describe_group(group).state == "Dead"
        consumer = transport.consumer(group)
        consumer.commit({TopicPartition(topic, 0): 2})
        consumer.close()
        assert transport.group_offsets(group) == {TopicPartition(topic, 0): 2}
        info = transport.describe_group(group)
        assert (info.state, info.members) == ("Empty", ())
        assert group in {g.group_id for g in transport.list_groups()}

        transport.alter_group_offsets(
            group, {TopicPartition(topic, 0): 0, TopicPartition(topic, 1): 1}
        )
        assert transport.group_offsets(group) == {
            TopicPartition(topic, 0): 0,
            TopicPartition(topic, 1): 1,
        }
        # a consumer of the group starts where the offsets were altered to
        consumer = transport.consumer(group)
        consumer.assign([TopicPartition(topic, 0)])
        assert consumer.committed(TopicPartition(topic, 0)) == 0
        consumer.close()

    def test_alter_refused_while_a_member_is_live(
        self, transport: Transport, topic_name, run_id
    ) -> None:
        topic, group = topic_name("live"), f"live-g-{run_id}"
        fill(transport, topic, [[1, 2]])
        member = transport.consumer(group)
        member.subscribe([topic])
        try:
            member.poll(10, timeout=0.5)  # joins the group (Kafka: on the first poll)
            wait_for(lambda: transport.describe_group(group).members)
            info = transport.describe_group(group)
            assert info.state not in ("Empty", "Dead") and len(info.members) == 1
            # what refuses ``streamctl table set`` while a worker runs (#15 review)
            assert transport.group_members(group) == [str(info.members[0])]
            member.commit({TopicPartition(topic, 0): 1})
            with pytest.raises(GroupNotEmpty, match="live members"):
                transport.alter_group_offsets(group, {TopicPartition(topic, 0): 0})
            assert transport.group_offsets(group) == {TopicPartition(topic, 0): 1}
        finally:
            member.close()
        wait_for(lambda: not transport.describe_group(group).members)
        transport.alter_group_offsets(group, {TopicPartition(topic, 0): 0})
        assert transport.group_offsets(group) == {TopicPartition(topic, 0): 0}

    def test_alter_of_an_unknown_topic_is_refused(self, transport: Transport, run_id) -> None:
        with pytest.raises(UnknownTopic):
            transport.alter_group_offsets(
                f"nogroup-{run_id}", {TopicPartition(f"missing-{run_id}", 0): 0}
            )

    def test_offsets_for_times(self, transport: Transport, topic_name) -> None:
        topic = topic_name("times")
        # partition 0: timestamps out of order, as producers may set them
        fill(transport, topic, [[1000, 3000, 2000, 4000], []])
        tp0, tp1 = TopicPartition(topic, 0), TopicPartition(topic, 1)
        assert transport.offsets_for_times({tp0: 0}) == {tp0: 0}
        assert transport.offsets_for_times({tp0: 1000}) == {tp0: 0}
        assert transport.offsets_for_times({tp0: 1001}) == {tp0: 1}
        assert transport.offsets_for_times({tp0: 3500, tp1: 0}) == {tp0: 3, tp1: None}
        assert transport.offsets_for_times({tp0: 4001}) == {tp0: None}

    def test_delete_topics(self, transport: Transport, topic_name, run_id) -> None:
        gone, kept, group = topic_name("gone"), topic_name("kept"), f"del-g-{run_id}"
        fill(transport, gone, [[1, 2, 3]])
        fill(transport, kept, [[1]])
        consumer = transport.consumer(group)
        consumer.commit({TopicPartition(gone, 0): 3, TopicPartition(kept, 0): 1})
        consumer.close()
        with pytest.raises(UnknownTopic):
            transport.delete_topics([gone, f"missing-{run_id}"])
        assert gone in transport.list_topics()  # all or nothing
        transport.delete_topics([gone])
        topics = transport.list_topics()
        assert gone not in topics and kept in topics
        # the group's offsets of the deleted topic go too; Kafka drops them after the
        # deletion, asynchronously (its group coordinator on the next metadata update)
        deadline = time.monotonic() + 30
        while (offsets := transport.group_offsets(group)) != {TopicPartition(kept, 0): 1}:
            assert time.monotonic() < deadline, offsets
            time.sleep(0.2)
        # the name may be used again: a new, empty topic
        transport.create_topics([TopicSpec(gone, partitions=2)])
        reader = transport.consumer(None)
        tps = [TopicPartition(gone, 0), TopicPartition(gone, 1)]
        assert reader.end_offsets(tps) == {tps[0]: 0, tps[1]: 0}
        reader.close()
