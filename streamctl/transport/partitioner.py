"""Kafka's default partitioner (murmur2 of the key bytes), shared by every transport and table."""

from __future__ import annotations

import random
import struct
from collections.abc import Iterable

_cache: dict[bytes, int] = {}
_CACHE_MAX = 100_000

_M = 0x5BD1E995
_SEED = 0x9747B28C
_MASK = 0xFFFFFFFF


def murmur2(data: bytes) -> int:
    """MurmurHash2 (32 bits, seed 0x9747b28c) as Kafka's Java client computes it for the
    default partitioner (``Utils.murmur2``), as an unsigned 32-bit number.

    Written here, not imported from kafka-python: importing ``kafka`` takes a tenth of
    a second, which the embedded broker's start-up should not pay (#14). Tests check it
    against kafka-python's.
    """
    length = len(data)
    h = (_SEED ^ length) & _MASK
    words = length // 4
    for k in struct.unpack_from(f"<{words}I", data) if words else ():
        k = (k * _M) & _MASK
        k ^= k >> 24
        k = (k * _M) & _MASK
        h = ((h * _M) & _MASK) ^ k
    rest = length & 3
    if rest:
        tail = length - rest
        if rest == 3:
            h ^= data[tail + 2] << 16
        if rest >= 2:
            h ^= data[tail + 1] << 8
        h ^= data[tail]
        h = (h * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    h ^= h >> 15
    return h


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
