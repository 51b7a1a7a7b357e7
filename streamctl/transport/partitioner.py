"""Kafka's default partitioner (murmur2 of the key bytes), shared by every transport and table."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable

_cache: dict[bytes, int] = {}
_CACHE_MAX = 100_000
_murmur2: Callable[[bytes], int] | None = None


def key_hash(key: bytes) -> int:
    """The positive murmur2 hash Kafka's Java client uses to pick a partition."""
    global _murmur2
    h = _cache.get(key)
    if h is None:
        if _murmur2 is None:  # kafka-python is slow to import: pay only when used
            from kafka.partitioner.default import murmur2

            _murmur2 = murmur2
        h = _murmur2(key) & 0x7FFFFFFF
        if len(_cache) >= _CACHE_MAX:
            _cache.clear()
        _cache[key] = h
    return h


def partition_for(key: bytes | None, partitions: int) -> int:
    """The partition a record with this key lands on; a random one without a key."""
    if key is None:
        return random.randrange(partitions)
    return key_hash(key) % partitions


def partitions_for(keys: Iterable[bytes | None], partitions: int) -> list[int]:
    """:func:`partition_for` of each key, in one pass (a batch's records at once)."""
    cache = _cache
    get = cache.get
    out: list[int] = []
    append = out.append
    for key in keys:
        if key is None:
            append(random.randrange(partitions))
            continue
        h = get(key)
        if h is None:
            h = key_hash(key)
        append(h % partitions)
    return out
