"""Codecs turn Python objects into bytes and back; looked up by name in a registry."""

from __future__ import annotations

import json
from typing import Any

from streamctl.exceptions import DecodeError


class Codec:
    """Base class: ``dumps(obj) -> bytes`` and ``loads(bytes) -> obj``."""

    name = ""

    def dumps(self, obj: Any) -> bytes:
        raise NotImplementedError

    def loads(self, data: bytes) -> Any:
        raise NotImplementedError


def _default(obj: Any) -> Any:
    to_rep = getattr(obj, "to_representation", None)
    if to_rep is not None:
        return to_rep()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj, key=repr)
    iso = getattr(obj, "isoformat", None)
    if iso is not None:
        return iso()
    if type(obj).__name__ == "Decimal":
        return str(obj)
    if isinstance(obj, bytes):
        return obj.decode("utf-8", "replace")
    raise TypeError(f"cannot serialize {type(obj).__name__} as JSON")


class JSONCodec(Codec):
    name = "json"

    _encoder = json.JSONEncoder(separators=(",", ":"), default=_default, ensure_ascii=False)
    _decode = staticmethod(json.loads)

    def dumps(self, obj: Any) -> bytes:
        return self._encoder.encode(obj).encode()

    def loads(self, data: bytes) -> Any:
        try:
            return self._decode(data)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise DecodeError(f"invalid JSON: {exc}") from None


class RawCodec(Codec):
    name = "raw"

    def dumps(self, obj: Any) -> bytes:
        if isinstance(obj, bytes):
            return obj
        if isinstance(obj, str):
            return obj.encode()
        raise TypeError(f"raw codec needs bytes or str, not {type(obj).__name__}")

    def loads(self, data: bytes) -> Any:
        return data


CODECS: dict[str, Codec] = {"json": JSONCodec(), "raw": RawCodec()}


def get_codec(name: str | Codec | None) -> Codec:
    if name is None:
        return CODECS["json"]
    if isinstance(name, Codec):
        return name
    try:
        return CODECS[name]
    except KeyError:
        from streamctl.exceptions import ConfigurationError

        raise ConfigurationError(
            f"unknown serializer {name!r} (known: {', '.join(sorted(CODECS))})"
        ) from None
