"""``Producer.send_many``: every transport (and the base class's default) queues a batch of
records exactly as one ``send`` per record would."""

from __future__ import annotations

import time
from collections.abc import Mapping

import pytest
from kafka.partitioner.default import murmur2

from streamctl.transport import Consumer, Message, TopicPartition, TopicSpec, Transport
from streamctl.transport.base import Headers, Producer, RecordMetadata
from streamctl.transport.exceptions import TransportError

NOW = int(time.time() * 1000)


class SendOnly(Producer):
    """A plugin producer that implements ``send`` only: it gets the base ``send_many``."""

    def __init__(self, inner: Producer) -> None:
        self.inner = inner
        self.sends = 0

    def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        *,
        partition: int | None = None,
        headers: Headers | None = None,
        timestamp: int | None = None,
    ) -> None:
        self.sends += 1
        self.inner.send(topic, key, value, partition=partition, timestamp=timestamp)

    def flush(self) -> list[RecordMetadata]:
        return self.inner.flush()

    @property
    def pending(self) -> int:
        return self.inner.pending

    def discard(self) -> None:
        self.inner.discard()

    def commit_transaction(
        self, offsets: Mapping[TopicPartition, int], consumer: Consumer | None = None
    ) -> None:
        raise AssertionError("not used")

    def close(self) -> None:
        self.inner.close()


@pytest.fixture(params=["native", "default"])
def producer(request: pytest.FixtureRequest, transport: Transport) -> Producer:
    inner = transport.producer()
    return inner if request.param == "native" else SendOnly(inner)


def read_all(consumer: Consumer, topic: str, partitions: int, n: int) -> list[Message]:
    consumer.assign([TopicPartition(topic, p) for p in range(partitions)])
    out: list[Message] = []
    deadline = time.monotonic() + 30
    while len(out) < n:
        assert time.monotonic() < deadline, f"got {len(out)} of {n} records"
        out += consumer.poll(1000, timeout=0.2)
    return out


@pytest.mark.timeout(120)
class TestSendMany:
    def test_same_records_and_metadata_as_one_send_each(
        self, transport: Transport, producer: Producer, topic_name, consumers
    ) -> None:
        topic = topic_name()
        transport.create_topics([TopicSpec(topic, partitions=3)])
        keys = [f"k-{i % 7}".encode() for i in range(40)]
        values = [f"v-{i}".encode() for i in range(40)]
        stamps = [NOW + i for i in range(40)]
        producer.send(topic, b"first", b"single", partition=2, timestamp=NOW)
        producer.send_many(topic, keys[:20], values[:20], timestamps=stamps[:20])
        producer.send_many(topic, keys[20:], values[20:], partition=1, timestamps=stamps[20:])
        producer.send_many(topic, [None, b"t"], [b"keyless", None], partition=0)
        assert producer.pending == 43
        metadata = producer.flush()
        # send order, the key's partition (murmur2) or the one given
        expected_parts = (
            [2] + [(murmur2(k) & 0x7FFFFFFF) % 3 for k in keys[:20]] + [1] * 20 + [0, 0]
        )
        assert [(md.topic, md.partition) for md in metadata] == [(topic, p) for p in expected_parts]
        got = read_all(consumers("g-many"), topic, 3, 43)
        by_offset = {(m.partition, m.offset): m for m in got}
        sent = (
            [(b"first", b"single", NOW)]
            + list(zip(keys, values, stamps))
            + [(None, b"keyless", None), (b"t", None, None)]
        )
        before = NOW
        for md, (key, value, stamp) in zip(metadata, sent):
            m = by_offset[(md.partition, md.offset)]
            assert (m.key, m.value) == (key, value)
            if stamp is None:  # no timestamps: now
                assert m.timestamp >= before - 1000
            else:
                assert m.timestamp == stamp
        producer.close()

    def test_bad_partition_and_lengths_refused_before_anything_is_queued(
        self, transport: Transport, producer: Producer, topic_name
    ) -> None:
        topic = topic_name()
        transport.create_topics([TopicSpec(topic, partitions=2)])
        with pytest.raises(ValueError, match="2 keys, 1 values"):
            producer.send_many(topic, [b"a", b"b"], [b"x"])
        with pytest.raises(ValueError, match="1 timestamps"):
            producer.send_many(topic, [b"a", b"b"], [b"x", b"y"], timestamps=[NOW])
        assert producer.pending == 0
        with pytest.raises(TransportError, match="partition"):
            producer.send_many(topic, [b"a"], [b"x"], partition=5)
            producer.flush()  # the embedded broker checks at send, Kafka's client may here
        producer.discard()
        producer.send_many(topic, [], [])
        assert producer.pending == 0
        assert producer.flush() == []
        producer.close()


def test_the_default_calls_send_once_per_record(tmp_path) -> None:
    from streamctl.transport import open_transport

    t = open_transport("memory://", datadir=tmp_path)
    t.create_topics([TopicSpec("t", partitions=2)])
    producer = SendOnly(t.producer())
    producer.send_many("t", [b"a", b"b", b"c"], [b"1", b"2", b"3"], partition=1)
    assert producer.sends == 3
    assert [md.offset for md in producer.flush()] == [0, 1, 2]
