"""Record batches of the embedded broker: many records packed into one SQLite row.

Appending one row per record costs SQLite about 5 us per record; packing a flush's
records for one partition into rows of up to ``ROW_MAX`` records makes the write
path a few list operations per record (Kafka stores record batches for the same
reason). A batch holds, column by column:

- ``offsets``: NULL when the batch covers ``base .. base + n - 1`` without gaps,
  else every record's offset (``array('q')``), as left by compaction;
- ``keys`` / ``vals``: the concatenated bytes; ``klens`` / ``vlens``: each one's
  length (``array('i')``), -1 for None (a tombstone value, a record without key);
- ``ts``: timestamps in ms (``array('q')``);
- ``headers``: NULL when no record has headers, else a JSON list, one entry per record.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Sequence
from itertools import accumulate

ROW_MAX = 1000

Packed = tuple[bytes, bytes, bytes, bytes, bytes, str | None]


def _column(items: Sequence[bytes | None]) -> tuple[bytes, bytes]:
    """The items' bytes joined, and their lengths (-1 for None)."""
    # per record: C loops when no item is None (the common case), a Python one otherwise
    try:
        return b"".join(items), array("i", map(len, items)).tobytes()  # type: ignore[arg-type]
    except TypeError:
        lens = array("i", [-1 if b is None else len(b) for b in items]).tobytes()
        return b"".join([b for b in items if b]), lens


def pack(
    keys: Sequence[bytes | None],
    values: Sequence[bytes | None],
    timestamps: Sequence[int],
    headers: Sequence[str | None],
) -> Packed:
    """(keys, klens, vals, vlens, ts, headers) columns for one batch row."""
    hdr = None
    if headers.count(None) != len(headers):
        hdr = "[" + ",".join("null" if h is None else h for h in headers) + "]"
    kdata, klens = _column(keys)
    vdata, vlens = _column(values)
    return (kdata, klens, vdata, vlens, array("q", timestamps).tobytes(), hdr)


def encode_headers(headers: Sequence[tuple[str, bytes]]) -> str:
    """One record's headers as JSON (bytes kept exactly via latin-1)."""
    return json.dumps([[k, v.decode("latin-1")] for k, v in headers])


def _split(blob: bytes, raw_lens: bytes) -> list[bytes | None]:
    lens = array("i")
    lens.frombytes(raw_lens)
    ends = accumulate([n if n > 0 else 0 for n in lens])
    return [None if n < 0 else blob[e - n : e] for n, e in zip(lens, ends)]


def unpack(
    base: int,
    n: int,
    offsets: bytes | None,
    keys: bytes,
    klens: bytes,
    vals: bytes,
    vlens: bytes,
    ts: bytes,
    headers: str | None,
) -> tuple[
    list[int],
    list[bytes | None],
    list[bytes | None],
    list[int],
    list[tuple[tuple[str, bytes], ...]],
]:
    """The columns of a batch row as per-record lists."""
    if offsets is None:
        offs = list(range(base, base + n))
    else:
        arr = array("q")
        arr.frombytes(offsets)
        offs = arr.tolist()
    stamps = array("q")
    stamps.frombytes(ts)
    if headers is None:
        hdrs: list[tuple[tuple[str, bytes], ...]] = [()] * n
    else:
        hdrs = [
            () if h is None else tuple((k, v.encode("latin-1")) for k, v in h)
            for h in json.loads(headers)
        ]
    return offs, _split(keys, klens), _split(vals, vlens), stamps.tolist(), hdrs


def offsets_blob(offsets: Sequence[int]) -> bytes | None:
    """NULL for a gapless run of offsets, else the offsets packed."""
    if not offsets or offsets[-1] - offsets[0] == len(offsets) - 1:
        return None
    return array("q", offsets).tobytes()
