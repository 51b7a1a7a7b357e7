"""Kafka's default partitioner: murmur2 of the key bytes, modulo the partition count."""

from __future__ import annotations

from collections.abc import Callable

_murmur2: Callable[[bytes], int] | None = None


def key_partition(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner picks for ``key`` (same as the Java client)."""
    global _murmur2
    if _murmur2 is None:  # kafka-python is slow to import; only pay for it when used
        from kafka.partitioner.default import murmur2

        _murmur2 = murmur2
    return (_murmur2(key) & 0x7FFFFFFF) % partitions
