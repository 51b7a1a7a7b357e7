"""A window's store key: the table key and the window range, encoded as the table's key codec."""

from __future__ import annotations

from typing import Any

from streamctl.tables.windows.ranges import WindowRange

#: window range -> the end of its store keys (many keys share each window)
_TAILS: dict[WindowRange, bytes] = {}
_TAILS_MAX = 4096


def window_key(codec: Any, key: Any, rng: WindowRange) -> bytes:
    """``codec.encode_key((key, rng))``, byte for byte; for text and integer keys of an
    untyped JSON table built from the key's cached encoding (JSON writes a float as
    ``repr`` does, and window times are finite)."""
    cls = key.__class__
    if (cls is str or cls is int) and codec.key_type is None:
        tail = _TAILS.get(rng)
        if tail is None:
            if len(_TAILS) >= _TAILS_MAX:
                _TAILS.clear()
            start, end = rng
            tail = _TAILS[rng] = b"".join(
                (b",[", repr(start).encode(), b",", repr(end).encode(), b"]]")
            )
        head: bytes = codec.encode_key(key)
        return b"[" + head + tail
    return codec.encode_key((key, rng))  # type: ignore[no-any-return]
