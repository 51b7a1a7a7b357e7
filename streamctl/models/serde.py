"""Serde: a codec plus an optional type, used by topics and tables for keys and values."""

from __future__ import annotations

from typing import Any

from streamctl.exceptions import DecodeError
from streamctl.models.base import maybe_model
from streamctl.models.codecs import Codec, get_codec
from streamctl.models.registry import BLESSED_KEY

#: how the blessed key appears in JSON bytes: no Record inside data without it
RECORD_MARK = f'"{BLESSED_KEY}"'.encode()


def revive(obj: Any, data: bytes | None = None) -> Any:
    """An untyped value as Faust gives it back: a dict naming a registered Record in
    ``__faust.ns`` becomes that Record (only classes in the registry, never code named
    by the data); anything else is returned as it is.

    ``data`` (tables pass it): the bytes ``obj`` was decoded from. When they name a
    Record below the top level (``[Record, ...]`` in a table of lists, as Faust's
    windowed aggregation example keeps), those Records are built too, so a stored
    value reads back as it was written, as from Faust's default in-memory store. The
    bytes are only scanned for the key: plain values cost no walk. Topics do not pass
    it: Faust rebuilds only a top-level Record from a message.
    """
    if obj.__class__ is dict and BLESSED_KEY in obj:
        return maybe_model(obj)
    if data is not None and obj.__class__ in (list, dict) and RECORD_MARK in data:
        return _revive_nested(obj)
    return obj


def _revive_nested(obj: Any) -> Any:
    if obj.__class__ is list:
        return [_revive_nested(v) for v in obj]
    if obj.__class__ is dict:
        if BLESSED_KEY in obj:
            return maybe_model(obj)
        return {k: _revive_nested(v) for k, v in obj.items()}
    return obj


class Serde:
    """Encode and decode one side (key or value) of a record.

    ``type_`` may be None (any JSON value), a builtin scalar type, or a model class
    (anything with ``from_data`` / ``to_representation``).
    """

    __slots__ = ("type", "codec", "_from_data", "_json")

    def __init__(self, type_: Any = None, serializer: str | Codec | None = None) -> None:
        self.type = type_
        if serializer is None and type_ is not None:
            opts = getattr(type_, "_options", None)
            serializer = getattr(opts, "serializer", None)
        self.codec = get_codec(serializer)
        self._from_data = getattr(type_, "from_data", None)
        self._json = self.codec.name == "json"

    def dumps(self, obj: Any) -> bytes | None:
        """``obj``'s bytes; None stays None. Bytes pass a JSON codec unchanged (already
        encoded). A model reaches any other codec as its field dict, as ``Model.dumps()``
        gives it (Faust's registry does the same), never as the object."""
        if obj is None:
            return None
        if self._json:
            if isinstance(obj, bytes):
                return obj
            return self.codec.dumps(obj)
        to_rep = getattr(obj, "to_representation", None)
        if to_rep is not None:
            obj = to_rep()
        return self.codec.dumps(obj)

    def loads(self, data: bytes | None) -> Any:
        if data is None:
            return None
        obj = self.codec.loads(data)
        t = self.type
        if t is None:
            return revive(obj, data)
        if self._from_data is not None:
            return self._from_data(obj)
        if t is str and isinstance(obj, bytes):
            try:
                return obj.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise DecodeError(f"expected UTF-8 text: {exc}") from None
        if t in (int, float, str, bool) and not isinstance(obj, t):
            try:
                return t(obj)
            except (TypeError, ValueError) as exc:
                raise DecodeError(f"expected {t.__name__}: {exc}") from None
        return obj
