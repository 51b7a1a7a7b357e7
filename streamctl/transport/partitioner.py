"""Kafka's default partitioner (murmur2 of the key bytes), shared by every transport."""

from __future__ import annotations

import random

from kafka.partitioner.default import murmur2

_cache: dict[bytes, int] = {}
_CACHE_MAX = 100_000


def key_hash(key: bytes) -> int:
    """The positive murmur2 hash Kafka's Java client uses to pick a partition."""
    h = _cache.get(key)
    if h is None:
        h = murmur2(key) & 0x7FFFFFFF
        if len(_cache) >= _CACHE_MAX:
            _cache.clear()
        _cache[key] = h
    return h


def partition_for(key: bytes | None, partitions: int) -> int:
    """The partition a record with this key lands on; a random one without a key."""
    if key is None:
        return random.randrange(partitions)
    return key_hash(key) % partitions
