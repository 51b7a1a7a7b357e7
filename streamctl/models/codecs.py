"""Codecs turn Python objects into bytes and back; looked up by name in a registry.

Built-ins: ``json``, ``raw`` and ``binary`` (base64 around raw bytes). Names joined with
``|`` compose, as in Faust: ``"json|binary"`` encodes with json, then binary, and decodes
in reverse. Plugins register through the ``streamctl.codecs`` entry-point group (or
:func:`register_codec`) as a lazily imported ``module:attr`` naming a Codec class or
instance. There is deliberately no pickle codec: unpickling untrusted data runs code.

JSON goes through orjson (a dependency; about 4x faster on ~100-byte events, see
``bench/codecs.py``) where it gives the standard library's answer, and through the
standard library elsewhere: decoding accepts exactly the same documents and returns the
same values; encoding writes exactly the same bytes (orjson formats some floats
differently, e.g. ``1e16`` vs ``1e+16``, and writes NaN as null: such output is
re-encoded by the standard library, which refuses NaN).
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
import math
import re
import uuid
from collections.abc import Callable
from typing import Any, cast

from streamctl import seams
from streamctl.exceptions import ConfigurationError, DecodeError

ENTRY_POINT_GROUP = "streamctl.codecs"


class Codec:
    """Base class: ``dumps(obj) -> bytes`` and ``loads(bytes) -> obj``.

    ``loads`` raises only DecodeError for bad input.
    """

    name = ""

    def dumps(self, obj: Any) -> bytes:
        raise NotImplementedError

    def loads(self, data: bytes) -> Any:
        raise NotImplementedError

    def __or__(self, other: Codec) -> Codec:
        return ComposedCodec([self, other])

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


def _default(obj: Any) -> Any:
    to_rep = getattr(obj, "to_representation", None)
    if to_rep is not None:
        return to_rep()
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, uuid.UUID):
        return str(obj)
    if isinstance(obj, set | frozenset):
        return sorted(obj, key=repr)
    iso = getattr(obj, "isoformat", None)
    if iso is not None:
        return iso()
    if type(obj).__name__ == "Decimal":
        return str(obj)
    if isinstance(obj, bytes):
        return obj.decode("utf-8", "replace")
    raise TypeError(f"cannot serialize {type(obj).__name__} as JSON")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"number {text[:40]!r} is out of range")
    return value


_stdlib_decoder = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)

# Integers beyond 64 bits: orjson turns them into floats, the standard library keeps them
# exact. A run of 19 digits (anything from 10**18, so all of int64's edge) sends the
# document to the standard library (cheap to detect).
#
# Deep nesting: orjson 3.8 has no depth limit when decoding: ``{"a":`` x 100,000 overflows
# the C stack and kills the process (a segfault, which no except clause catches), so one
# bad record would stop every worker reading it. A document that opens more than
# MAX_FAST_OPENERS ``{``/``[`` (inside strings too: a cheap, safe over-estimate of its
# depth) goes to the standard library, whose recursion limit turns depth into an error.
_DIGITS = bytes(48 if 48 <= i <= 57 else 123 if i in (91, 123) else 46 for i in range(256))
_LONG_RUN = b"0" * 19
MAX_FAST_OPENERS = 512


# A JSON string escape; group 1 is the hex of a UTF-16 surrogate (D800-DFFF).
_ESCAPE = re.compile(r"\\(?:u([dD][89a-fA-F][0-9a-fA-F]{2})|.)", re.DOTALL)


def _lone_surrogate(text: str) -> str | None:
    """The first ``\\uD8xx``-style escape not part of a surrogate pair, or None.

    The standard library decodes a lone surrogate into a str that cannot be encoded as
    UTF-8 again (so a record holding one would crash the first step that writes it);
    orjson refuses it, and so do we, so both decoders accept the same documents.
    """
    high_end = -1
    high = ""
    for m in _ESCAPE.finditer(text):
        hexs = m.group(1)
        if high_end >= 0:
            if hexs is not None and hexs[1] in "cdefCDEF" and m.start() == high_end:
                high_end = -1
                continue
            return high
        if hexs is not None:
            if hexs[1] in "89abAB":
                high_end, high = m.end(), m.group(0)
            else:
                return m.group(0)
    return high if high_end >= 0 else None


def _stdlib_loads(data: bytes | str) -> Any:
    text = data if isinstance(data, str) else bytes(data).decode("utf-8")
    obj = _stdlib_decoder.decode(text)
    if "\\ud" in text or "\\uD" in text:
        lone = _lone_surrogate(text)
        if lone is not None:
            raise ValueError(f"lone surrogate {lone} is not a Unicode character")
    return obj


def _make_loads() -> Callable[[Any], Any]:
    try:
        import orjson
    except ImportError:  # pragma: no cover - depends on the environment
        return _stdlib_loads
    fast = orjson.loads
    fast_error = orjson.JSONDecodeError

    def loads(data: Any) -> Any:
        if isinstance(data, bytes):
            shape = data.translate(_DIGITS)
            # find, not ``in`` (which raises and formats a TypeError inside each test)
            if shape.find(_LONG_RUN) < 0 and shape.count(123) <= MAX_FAST_OPENERS:
                try:
                    return fast(data)
                except fast_error:
                    pass  # the standard library decides, and words the error
        return _stdlib_loads(data)

    return loads


# orjson writes what the standard library writes, byte for byte, except: NaN and
# Infinity (it writes null), exponents (1e-7 vs 1e-07; older orjson also 1e16 vs
# 1e+16) and numbers under 1e-4 (0.00005 vs 5e-05). Output where any of those may
# be is re-encoded by the standard library, which decides (and refuses NaN); so are
# the objects orjson refuses (integers beyond 64 bits, non-string keys, deep nesting).
# (byte tests, not a regex: a regex scan costs more than orjson's whole encoding)
_EXPONENT = bytes(48 if 48 <= i <= 57 else 101 if i in (69, 101) else 46 for i in range(256))


def _signed_exponents(fast: Callable[[Any], bytes]) -> bool:
    """True when ``fast`` (orjson.dumps) writes positive exponents as the standard library
    does (``1e+16``): then only a negative exponent (``e-``) can differ, and output with
    no ``e-`` in it needs no further test."""
    return all(fast(x) == json.dumps(x).encode() for x in (1e16, 1.5e300, 2e22))


def _make_dumps(stdlib: Callable[[Any], str], passthrough: bool = False) -> Callable[[Any], Any]:
    """The JSON encoder function; with ``passthrough``, None gives None and bytes are
    returned as they are (already encoded: what a topic's value dumper wants)."""

    def slow(obj: Any) -> bytes:
        return stdlib(obj).encode()

    try:
        import orjson
    except ImportError:  # pragma: no cover - depends on the environment
        return slow
    fast = orjson.dumps
    refused = orjson.JSONEncodeError
    # datetimes and dataclasses go through _default as on the standard library's path
    # (orjson would round UTC offsets with seconds, and serialize dataclasses itself)
    options = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
    # an orjson that writes 1e+16 as the standard library does: only output with a
    # negative exponent (e-) needs the exponent test; the tests run inline (per value)
    any_exponent = not _signed_exponents(fast)

    def dumps(obj: Any) -> Any:
        if passthrough and (obj is None or obj.__class__ is bytes):
            return obj
        try:
            out = fast(obj, default=_default, option=options)
        except refused:
            return slow(obj)
        # bytes.find, not ``in``: ``in`` tries the needle as an int first, which raises
        # (and formats) a TypeError inside every test
        if (
            out.find(b"null") >= 0
            or out.find(b"0.0000") >= 0
            or (
                (any_exponent or out.find(b"e-") >= 0) and out.translate(_EXPONENT).find(b"0e") >= 0
            )
        ):
            return slow(obj)
        return out

    return dumps


class JSONCodec(Codec):
    """Compact UTF-8 JSON (no spaces, non-ASCII kept). NaN and Infinity are refused both
    ways: encoding raises ValueError, decoding raises DecodeError."""

    name = "json"

    _encoder = json.JSONEncoder(
        separators=(",", ":"), default=_default, ensure_ascii=False, allow_nan=False
    )
    _decode = staticmethod(_make_loads())
    _encode = staticmethod(_make_dumps(_encoder.encode))
    #: as ``_encode``, None and bytes passing through (``streamctl.topics.dumper``)
    _encode_values = staticmethod(_make_dumps(_encoder.encode, passthrough=True))

    def dumps(self, obj: Any) -> bytes:
        return self._encode(obj)

    def loads(self, data: bytes) -> Any:
        try:
            return self._decode(data)
        except RecursionError:
            raise DecodeError("invalid JSON: nested too deeply") from None
        except UnicodeDecodeError as exc:
            raise DecodeError(
                f"invalid JSON: not UTF-8 ({exc.reason} at byte {exc.start})"
            ) from None
        except (ValueError, TypeError) as exc:
            raise DecodeError(f"invalid JSON: {exc}") from None


class RawCodec(Codec):
    """Bytes unchanged (str is UTF-8 encoded)."""

    name = "raw"

    def dumps(self, obj: Any) -> bytes:
        if isinstance(obj, bytes):
            return obj
        if isinstance(obj, str):
            return obj.encode()
        raise TypeError(f"raw codec needs bytes or str, not {type(obj).__name__}")

    def loads(self, data: bytes) -> Any:
        return data


class BinaryCodec(RawCodec):
    """Base64 around raw bytes (Faust's ``binary``)."""

    name = "binary"

    def dumps(self, obj: Any) -> bytes:
        return base64.b64encode(super().dumps(obj))

    def loads(self, data: bytes) -> Any:
        try:
            return base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError, TypeError) as exc:
            raise DecodeError(f"invalid base64: {exc}") from None


class ComposedCodec(Codec):
    """Codecs applied left to right on encode and right to left on decode."""

    def __init__(self, codecs: list[Codec]) -> None:
        self.codecs = codecs
        self.name = "|".join(c.name for c in codecs)

    def dumps(self, obj: Any) -> bytes:
        for codec in self.codecs:
            obj = codec.dumps(obj)
        return cast(bytes, obj)  # the last codec's bytes

    def loads(self, data: bytes) -> Any:
        for codec in reversed(self.codecs):
            data = codec.loads(data)
        return data


#: name -> codec instance (built-ins, resolved plugins and composed names are cached here).
CODECS: dict[str, Codec] = {"json": JSONCodec(), "raw": RawCodec(), "binary": BinaryCodec()}

#: name -> "module:attr" registered but not imported yet (plugins: the entry points).
_LAZY: dict[str, str] = {}


def register_codec(name: str, codec: Codec | type[Codec] | str) -> None:
    """Make ``codec`` available as ``name``; a ``"module:attr"`` string is imported lazily."""
    if "|" in name or not name:
        raise ValueError(f"invalid codec name {name!r}")
    CODECS.pop(name, None)
    if isinstance(codec, str):
        _LAZY[name] = codec
    else:
        _LAZY.pop(name, None)
        CODECS[name] = _instantiate(name, codec)


def _instantiate(name: str, obj: Any) -> Codec:
    if isinstance(obj, type) and issubclass(obj, Codec):
        obj = obj()
    if not isinstance(obj, Codec):
        raise ConfigurationError(f"codec {name!r} is {obj!r}, not a streamctl Codec")
    if not obj.name:
        obj.name = name
    return obj


def _resolve(name: str) -> Codec:
    """One codec by name: an instance already made, else a registered or plugged-in
    ``module:attr`` (:mod:`streamctl.seams`), imported and made once."""
    codec = CODECS.get(name)
    if codec is not None:
        return codec
    target = seams.target(ENTRY_POINT_GROUP, name, _LAZY)
    if target is None:
        known = seams.names(ENTRY_POINT_GROUP, {*CODECS, *_LAZY})
        raise ConfigurationError(f"unknown serializer {name!r} (known: {', '.join(known)})")
    try:
        obj = seams.load_object(target)
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(f"cannot load codec {name!r} from {target!r}: {exc}") from None
    codec = CODECS[name] = _instantiate(name, obj)
    return codec


def get_codec(name: str | Codec | None) -> Codec:
    """The codec for ``name`` (None means json); ``"a|b"`` composes; unknown names raise
    ConfigurationError."""
    if name is None:
        return CODECS["json"]
    if isinstance(name, Codec):
        return name
    codec = CODECS.get(name)
    if codec is not None:
        return codec
    if "|" in name:
        parts = [p.strip() for p in name.split("|")]
        codec = CODECS[name] = ComposedCodec([_resolve(p) for p in parts])
        return codec
    return _resolve(name)


def available_codecs() -> list[str]:
    """Every codec name known now (built-ins, registered and installed plugins)."""
    return seams.names(ENTRY_POINT_GROUP, {*CODECS, *_LAZY})
