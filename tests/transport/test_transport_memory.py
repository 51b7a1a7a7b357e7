"""What the in-memory broker does beyond the contract: groups balanced across members."""

from __future__ import annotations

import threading
import time

import pytest

from streamctl.transport.base import RebalanceListener, TopicPartition, TopicSpec
from streamctl.transport.exceptions import CommitFailed, TransportError
from streamctl.transport.memory import MemoryTransport


class Recorder(RebalanceListener):
    def __init__(self, consumer=None) -> None:  # type: ignore[no-untyped-def]
        self.events: list[tuple[str, set[TopicPartition]]] = []
        self.consumer = consumer

    def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        self.events.append(("revoked", set(revoked)))
        if self.consumer is not None:  # still ours: the revoke commits what was read
            self.consumer.commit({tp: self.consumer.position(tp) for tp in revoked})

    def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self.events.append(("assigned", set(assigned)))


def tps(topic: str, *partitions: int) -> set[TopicPartition]:
    return {TopicPartition(topic, p) for p in partitions}


@pytest.fixture
def transport() -> MemoryTransport:
    t = MemoryTransport()
    t.create_topics([TopicSpec("t", partitions=4), TopicSpec("u", partitions=1)])
    producer = t.producer()
    for i in range(40):
        producer.send("t", None, b"%d" % i, partition=i % 4)
    producer.flush()
    return t


def test_members_share_partitions_and_hand_them_over(transport: MemoryTransport) -> None:
    a = transport.consumer("g")
    a_heard = Recorder(a)
    a.subscribe(["t"], a_heard)
    assert len(a.poll(max_records=100)) == 40
    assert a.assignment() == tps("t", 0, 1, 2, 3)
    assert a_heard.events == [("assigned", tps("t", 0, 1, 2, 3))]

    b = transport.consumer("g")
    b_heard = Recorder()
    b.subscribe(["t"], b_heard)
    assert b.poll() == []  # a still holds every partition
    assert b_heard.events == [("assigned", set())]
    with pytest.raises(CommitFailed):  # not b's
        b.commit({TopicPartition("t", 2): 0})

    a.poll(max_records=0)  # a settles: gives up the upper half (committing where it was)
    assert a_heard.events[-1] == ("revoked", tps("t", 2, 3))
    assert a.assignment() == tps("t", 0, 1)
    with pytest.raises(CommitFailed, match="rebalanced"):
        a.commit({TopicPartition("t", 3): 10})

    producer = transport.producer()
    for p in range(4):
        producer.send("t", None, b"new", partition=p)
    producer.flush()
    got = b.poll(max_records=100)
    assert b_heard.events[-1] == ("assigned", tps("t", 2, 3))
    # b goes on where a committed on revoke
    assert sorted((m.partition, m.offset) for m in got) == [(2, 10), (3, 10)]
    assert transport.group_members("g") == ["member 1", "member 2"]

    a.close()  # a leaves: b takes everything on its next poll
    b.poll(max_records=0)
    assert b.assignment() == tps("t", 0, 1, 2, 3)
    assert b_heard.events[-1] == ("assigned", tps("t", 0, 1))
    assert transport.group_members("g") == ["member 2"]


def test_members_of_other_topics_and_groups_do_not_interfere(transport: MemoryTransport) -> None:
    a, b, c = (transport.consumer(g) for g in ("g", "g", "h"))
    a.subscribe(["t", "u"])
    b.subscribe(["u"])
    c.subscribe(["t"])
    for consumer in (a, b, c):
        consumer.poll()
    assert a.assignment() == tps("t", 0, 1, 2, 3) | tps("u", 0)  # a joined first
    assert b.assignment() == set()
    assert c.assignment() == tps("t", 0, 1, 2, 3)


def test_subscribe_needs_a_group_and_assign_checks_partitions(transport: MemoryTransport) -> None:
    with pytest.raises(TransportError, match="group"):
        transport.consumer(None).subscribe(["t"])
    with pytest.raises(TransportError, match="no partition 9"):
        transport.consumer(None).assign([TopicPartition("t", 9)])


def test_poll_wakes_when_records_arrive(transport: MemoryTransport) -> None:
    consumer = transport.consumer(None)
    consumer.assign([TopicPartition("u", 0)])

    def later() -> None:
        time.sleep(0.1)
        producer = transport.producer()
        producer.send("u", None, b"late")
        producer.flush()

    threading.Thread(target=later).start()
    started = time.monotonic()
    [message] = consumer.poll(timeout=5)
    assert message.value == b"late" and time.monotonic() - started < 2
