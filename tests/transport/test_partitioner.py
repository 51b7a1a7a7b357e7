"""Kafka's default partitioner, written in streamctl: the same hash as kafka-python's."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from kafka.partitioner.default import murmur2 as kafka_murmur2

from streamctl.transport.partitioner import key_hash, murmur2, partition_for, partitions_for


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_murmur2_is_kafkas(data: bytes) -> None:
    assert murmur2(data) & 0x7FFFFFFF == kafka_murmur2(data) & 0x7FFFFFFF
    assert key_hash(data) == kafka_murmur2(data) & 0x7FFFFFFF


def test_known_keys_land_where_kafka_puts_them() -> None:
    # every tail length (0-3 bytes after the 4-byte words), text and binary
    keys = [b"", b"a", b"ab", b"abc", b"abcd", b"customer-0001", "ünï".encode(), b"\x00\xff"]
    for key in keys:
        assert partition_for(key, 7) == (kafka_murmur2(key) & 0x7FFFFFFF) % 7
    assert partitions_for(keys, 7) == [partition_for(k, 7) for k in keys]
    assert all(0 <= p < 3 for p in partitions_for([None, None, b"x"], 3))
