"""Serde: a codec plus an optional type, used by topics and tables for keys and values."""

from __future__ import annotations

from typing import Any

from streamctl.exceptions import DecodeError
from streamctl.models.codecs import Codec, get_codec


class Serde:
    """Encode and decode one side (key or value) of a record.

    ``type_`` may be None (any JSON value), a builtin scalar type, or a model class
    (anything with ``from_data`` / ``to_representation``).
    """

    __slots__ = ("type", "codec", "_from_data")

    def __init__(self, type_: Any = None, serializer: str | Codec | None = None) -> None:
        self.type = type_
        if serializer is None and type_ is not None:
            opts = getattr(type_, "_options", None)
            serializer = getattr(opts, "serializer", None)
        self.codec = get_codec(serializer)
        self._from_data = getattr(type_, "from_data", None)

    def dumps(self, obj: Any) -> bytes | None:
        if obj is None:
            return None
        if isinstance(obj, bytes) and self.codec.name == "json":
            return obj
        return self.codec.dumps(obj)

    def loads(self, data: bytes | None) -> Any:
        if data is None:
            return None
        obj = self.codec.loads(data)
        t = self.type
        if t is None:
            return obj
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
