"""The transport contract: every implementation (local, kafka, memory) must pass the same cases."""

from __future__ import annotations

import time
from collections import defaultdict

import pytest
from kafka.partitioner.default import murmur2

from streamctl.transport import Consumer, Message, TopicPartition, TopicSpec, Transport
from streamctl.transport.base import RebalanceListener
from streamctl.transport.exceptions import TransportError

NOW = int(time.time() * 1000)


def drain(
    consumer: Consumer, n: int, *, timeout: float = 30.0, max_records: int = 1000
) -> list[Message]:
    """Poll until ``n`` records arrived (fails on timeout) and return them."""
    out: list[Message] = []
    deadline = time.monotonic() + timeout
    while len(out) < n:
        assert time.monotonic() < deadline, f"got {len(out)} of {n} records in {timeout}s"
        out += consumer.poll(max_records=max_records, timeout=0.2)
    return out


def kafka_partition(key: bytes, partitions: int) -> int:
    """Kafka's default partitioner, as the Java client computes it."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def tps(topic: str, partitions: int) -> list[TopicPartition]:
    return [TopicPartition(topic, p) for p in range(partitions)]


class Recorder(RebalanceListener):
    def __init__(self, consumer: Consumer | None = None) -> None:
        self.events: list[tuple[str, set[TopicPartition]]] = []
        self.records_seen_at_assign: list[int] = []
        self.seen = 0
        self.consumer = consumer
        self.committed_at_assign: dict[TopicPartition, int | None] = {}

    def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        self.events.append(("revoked", set(revoked)))

    def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self.events.append(("assigned", set(assigned)))
        self.records_seen_at_assign.append(self.seen)
        if self.consumer is not None:  # listeners may call back into their consumer
            for tp in assigned:
                self.committed_at_assign[tp] = self.consumer.committed(tp)


# Every case is bounded (drain() gives up after 15 s); 120 s leaves room for the
# first Kafka case, whose setup may start the broker (cold start ~25 s).
@pytest.mark.timeout(120)
class TestTransportContract:
    def test_create_and_list_topics(self, transport: Transport, topic_name) -> None:
        plain, compacted = topic_name("plain"), topic_name("changelog")
        transport.create_topics(
            [TopicSpec(plain, partitions=3), TopicSpec(compacted, partitions=2, compacting=True)]
        )
        topics = transport.list_topics()
        assert (topics[plain].partitions, topics[plain].compacting) == (3, False)
        assert (topics[compacted].partitions, topics[compacted].compacting) == (2, True)
        # Existing topics are left alone, even when declared differently.
        transport.create_topics([TopicSpec(plain, partitions=5)])
        assert transport.list_topics()[plain].partitions == 3

    def test_produce_and_read_back_in_order_per_partition(
        self, transport: Transport, topic_name, consumers
    ) -> None:
        topic, n = topic_name(), 200
        transport.create_topics([TopicSpec(topic, partitions=4)])
        producer = transport.producer()
        sent = []
        for i in range(n):
            key, value = f"key-{i % 17}".encode(), f'{{"i": {i}}}'.encode()
            headers = [("seq", str(i).encode()), ("origin", b"test")]
            producer.send(topic, key, value, headers=headers, timestamp=NOW + i)
            sent.append((key, value, headers, NOW + i))
        metadata = producer.flush()
        producer.close()
        assert len(metadata) == n

        consumer = consumers("g-read")
        consumer.assign(tps(topic, 4))
        got = drain(consumer, n)
        assert len(got) == n
        expected = defaultdict(list)
        for md, record in zip(metadata, sent):
            expected[md.partition].append((md.offset, *record))
        by_partition = defaultdict(list)
        for m in got:
            assert m.topic == topic
            by_partition[m.partition].append(
                (m.offset, m.key, m.value, list(m.headers), m.timestamp)
            )
        assert by_partition == expected
        assert all(offsets[0][0] == 0 for offsets in by_partition.values())

    def test_key_picks_partition_with_murmur2(self, transport: Transport, topic_name) -> None:
        topic, partitions = topic_name(), 6
        transport.create_topics([TopicSpec(topic, partitions=partitions)])
        producer = transport.producer()
        keys = [f"customer-{i}".encode() for i in range(60)] + [b"", b"\x00\xff", "ünï".encode()]
        for key in keys:
            producer.send(topic, key, b"v")
        producer.send(topic, b"customer-1", b"explicit", partition=5)
        metadata = producer.flush()
        producer.close()
        assert [md.partition for md in metadata[:-1]] == [
            kafka_partition(k, partitions) for k in keys
        ]
        assert metadata[-1].partition == 5
        assert len({md.partition for md in metadata}) > 1

    def test_flush_returns_metadata_in_send_order(self, transport: Transport, topic_name) -> None:
        topic = topic_name()
        transport.create_topics([TopicSpec(topic, partitions=3)])
        producer = transport.producer()
        order = [0, 2, 0, 1, 2, 0, 0, 1]
        for i, p in enumerate(order):
            producer.send(topic, None, str(i).encode(), partition=p)
        first = producer.flush()
        assert [(md.topic, md.partition) for md in first] == [(topic, p) for p in order]
        next_offset: dict[int, int] = defaultdict(int)
        for md in first:
            assert md.offset == next_offset[md.partition]
            next_offset[md.partition] += 1
        producer.send(topic, None, b"again", partition=0)
        assert [md.offset for md in producer.flush()] == [order.count(0)]
        assert producer.flush() == []
        producer.close()

    def test_partition_out_of_range_is_refused(self, transport: Transport, topic_name) -> None:
        topic = topic_name()
        transport.create_topics([TopicSpec(topic, partitions=2)])
        producer = transport.producer()
        with pytest.raises(TransportError, match="partition"):
            producer.send(topic, None, b"x", partition=5)  # Kafka refuses here,
            producer.flush()  # the embedded broker here
        producer.close()

    def test_commit_resume_and_new_group(self, transport: Transport, topic_name, consumers) -> None:
        topic = topic_name()
        tp = TopicPartition(topic, 0)
        transport.create_topics([TopicSpec(topic, partitions=1)])
        producer = transport.producer()
        for i in range(10):
            producer.send(topic, b"k", str(i).encode())
        producer.flush()
        producer.close()

        first = consumers("g-commit")
        first.assign([tp])
        assert first.committed(tp) is None
        assert [m.offset for m in drain(first, 10)] == list(range(10))
        first.commit({tp: 6})
        assert first.committed(tp) == 6
        first.close()

        again = consumers("g-commit")
        again.assign([tp])
        assert again.committed(tp) == 6
        assert again.position(tp) == 6
        assert [m.value for m in drain(again, 4)] == [b"6", b"7", b"8", b"9"]

        other = consumers("g-other")
        other.assign([tp])
        assert other.committed(tp) is None
        assert drain(other, 10)[0].offset == 0

    def test_subscribe_resumes_at_committed(
        self, transport: Transport, topic_name, consumers
    ) -> None:
        topic = topic_name()
        tp = TopicPartition(topic, 0)
        transport.create_topics([TopicSpec(topic, partitions=1)])
        producer = transport.producer()
        for i in range(5):
            producer.send(topic, None, str(i).encode(), partition=0)
        producer.flush()
        producer.close()
        setter = consumers("g-sub")
        setter.assign([tp])
        setter.commit({tp: 3})
        setter.close()

        member = consumers("g-sub")
        member.subscribe([topic])
        assert [m.offset for m in drain(member, 2)] == [3, 4]
        assert member.assignment() == {tp}

    def test_seek_and_position(self, transport: Transport, topic_name, consumers) -> None:
        topic = topic_name()
        tp = TopicPartition(topic, 0)
        transport.create_topics([TopicSpec(topic, partitions=1)])
        producer = transport.producer()
        for i in range(10):
            producer.send(topic, None, str(i).encode(), partition=0)
        producer.flush()
        producer.close()
        consumer = consumers("g-seek")
        consumer.assign([tp])
        drain(consumer, 10)
        assert consumer.position(tp) == 10
        consumer.seek(tp, 7)
        assert consumer.position(tp) == 7
        assert [m.offset for m in drain(consumer, 3)] == [7, 8, 9]
        consumer.seek(tp, 0)
        assert drain(consumer, 1)[0].offset == 0

    def test_end_and_beginning_offsets(self, transport: Transport, topic_name, consumers) -> None:
        topic = topic_name()
        transport.create_topics([TopicSpec(topic, partitions=3)])
        producer = transport.producer()
        for p, count in enumerate([5, 0, 2]):
            for _ in range(count):
                producer.send(topic, None, b"x", partition=p)
        producer.flush()
        producer.close()
        consumer = consumers(None)
        all_tps = tps(topic, 3)
        assert consumer.end_offsets(all_tps) == dict(zip(all_tps, [5, 0, 2]))
        assert consumer.beginning_offsets(all_tps) == dict.fromkeys(all_tps, 0)

    def test_poll_respects_max_records(self, transport: Transport, topic_name, consumers) -> None:
        topic = topic_name()
        tp = TopicPartition(topic, 0)
        transport.create_topics([TopicSpec(topic, partitions=1)])
        producer = transport.producer()
        for i in range(50):
            producer.send(topic, None, str(i).encode(), partition=0)
        producer.flush()
        producer.close()
        consumer = consumers("g-max")
        consumer.assign([tp])
        got: list[Message] = []
        deadline = time.monotonic() + 15
        while len(got) < 50 and time.monotonic() < deadline:
            batch = consumer.poll(max_records=7, timeout=0.2)
            assert len(batch) <= 7
            got += batch
        assert [m.offset for m in got] == list(range(50))

    def test_empty_poll_returns_within_timeout(
        self, transport: Transport, topic_name, consumers
    ) -> None:
        topic = topic_name()
        transport.create_topics([TopicSpec(topic, partitions=2)])
        consumer = consumers("g-empty")
        consumer.assign(tps(topic, 2))
        consumer.poll(timeout=0.5)  # let a client finish connecting
        for timeout in (0.0, 0.3):
            started = time.monotonic()
            assert consumer.poll(max_records=10, timeout=timeout) == []
            assert time.monotonic() - started < timeout + 1.0

    def test_listener_told_of_assignment_before_first_record(
        self, transport: Transport, topic_name, consumers
    ) -> None:
        topic = topic_name()
        transport.create_topics([TopicSpec(topic, partitions=2)])
        producer = transport.producer()
        for i in range(6):
            producer.send(topic, None, str(i).encode(), partition=i % 2)
        producer.flush()
        producer.close()
        consumer = consumers("g-listen")
        listener = Recorder(consumer)
        consumer.subscribe([topic], listener=listener)
        got: list[Message] = []
        deadline = time.monotonic() + 15
        while len(got) < 6:
            assert time.monotonic() < deadline
            batch = consumer.poll(timeout=0.2)
            if batch:
                assert listener.events, "records returned before on_partitions_assigned"
            got += batch
            listener.seen = len(got)
        assigned = [tps_ for kind, tps_ in listener.events if kind == "assigned"]
        assert set().union(*assigned) == set(tps(topic, 2))
        assert listener.records_seen_at_assign[0] == 0
        assert listener.committed_at_assign == dict.fromkeys(tps(topic, 2))

    def test_tombstone_and_keyless_records_round_trip(
        self, transport: Transport, topic_name, consumers
    ) -> None:
        changelog, plain = topic_name("changelog"), topic_name("plain")
        transport.create_topics(
            [TopicSpec(changelog, partitions=1, compacting=True), TopicSpec(plain, partitions=1)]
        )
        producer = transport.producer()
        producer.send(changelog, b"k", b"v1")
        producer.send(changelog, b"k", None)
        producer.send(changelog, b"empty", b"")
        producer.send(plain, None, b"no key")
        producer.flush()
        producer.close()
        consumer = consumers("g-tomb")
        consumer.assign([TopicPartition(changelog, 0), TopicPartition(plain, 0)])
        got = drain(consumer, 4)
        assert sorted((m.topic, m.offset, m.key, m.value, list(m.headers)) for m in got) == [
            (changelog, 0, b"k", b"v1", []),
            (changelog, 1, b"k", None, []),
            (changelog, 2, b"empty", b"", []),
            (plain, 0, None, b"no key", []),
        ]

    def test_compacted_topic_refuses_keyless_records(
        self, transport: Transport, topic_name
    ) -> None:
        topic = topic_name("changelog")
        transport.create_topics([TopicSpec(topic, partitions=1, compacting=True)])
        producer = transport.producer()
        producer.send(topic, None, b"no key")
        with pytest.raises(TransportError):
            producer.flush()
        producer.close()


@pytest.mark.parametrize("bad", ["kafka://", "kafka://host", "kafka://host:port"])
def test_bad_kafka_url(bad: str, tmp_path) -> None:
    from streamctl.transport import open_transport
    from streamctl.transport.exceptions import BadBrokerURL

    with pytest.raises(BadBrokerURL):
        open_transport(bad, datadir=tmp_path)
