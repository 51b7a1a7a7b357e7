"""Key and value bytes of one table: its two Serdes, a key cache and a number memo.

Keys and values are encoded once, on the way into the write buffer, and decoded
on the way out; stores and changelogs only ever see bytes. Both directions run
once per event (``table[k] += x``), so the common cases are cached: str and int
keys map to their bytes through a bounded dict, and numbers this process wrote
map back from their bytes without the JSON decoder.

Keys and values keep their identity (#9): JSON has no bytes, so in a table whose
serializer is JSON, a ``bytes`` key or value is stored as :data:`BYTES_TAG` plus the
bytes (no JSON text starts with a NUL byte) and reads back as the same bytes, not as
whatever the bytes would parse to (``b'2024'`` stays ``b'2024'``). A table declared
with ``key_type=bytes`` or ``value_type=bytes`` uses the ``raw`` codec on that side,
as a topic does.

:meth:`TableCodec.partition_bytes` gives the bytes that choose a key's partition:
those a topic's default key serializer produces for the key (UTF-8 text for str, the
bytes themselves for bytes, the table's encoding otherwise), so a key written outside
a stream lands where the topic puts its records.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from streamctl.models.serde import Serde

#: entries the key cache and the number memo hold before they start over
CACHE_MAX: Final = 100_000

_SCALARS = (int, float, str, bool)

#: prefix of a bytes key or value in a JSON table (see the module docstring)
BYTES_TAG: Final = b"\x00"


def finite(x: float) -> bool:
    """False for inf and nan (whose JSON would not read back)."""
    return x - x == 0


def _representation(obj: Any) -> Any:
    to_rep = getattr(obj, "to_representation", None)
    return obj if to_rep is None else to_rep()


def freeze(obj: Any) -> Any:
    """JSON gives lists back for tuples; keys and set members must be hashable."""
    if isinstance(obj, list):
        return tuple(freeze(x) for x in obj)
    return obj


class TableCodec:
    """Encode and decode one table's keys and values (``table`` names it in errors)."""

    __slots__ = (
        "table",
        "key_type",
        "value_type",
        "key_serde",
        "value_serde",
        "_json_values",
        "_str_keys",
        "_int_keys",
        "_memo",
        "numbers",
        "_json_keys",
    )

    def __init__(
        self,
        table: str,
        key_type: Any = None,
        value_type: Any = None,
        key_serializer: Any = None,
        value_serializer: Any = None,
    ) -> None:
        self.table = table
        self.key_type = key_type
        self.value_type = value_type
        if key_type is bytes and key_serializer is None:
            key_serializer = "raw"
        if value_type is bytes and value_serializer is None:
            value_serializer = "raw"
        self.key_serde = Serde(key_type, key_serializer)
        self.value_serde = Serde(value_type, value_serializer)
        self._json_keys = self.key_serde.codec.name == "json"
        self._json_values = self.value_serde.codec.name == "json"
        #: str and int keys -> their bytes (one dict per type: 1, 1.0 and True are equal
        #: dict keys, and no tuple is built per lookup)
        self._str_keys: dict[str, bytes] = {}
        self._int_keys: dict[int, bytes] = {}
        #: encoded number -> number, for values written by this process (see dump_value)
        self._memo: dict[bytes, Any] = {}
        #: the value classes whose finite values encode as their ``repr`` (JSON values
        #: of no type, int or float): the write buffer may hold them decoded until the
        #: batch is sent (``Table._incrementer``)
        self.numbers: tuple[type, ...] = (
            ((int, float) if value_type is None else (value_type,))
            if self._json_values and value_type in (None, int, float)
            else ()
        )

    def encode_key(self, key: Any) -> bytes:
        """The key's bytes (TypeError for None)."""
        # hot path: the same keys come back batch after batch; text and numbers are cached
        cls = key.__class__
        cache = self._str_keys if cls is str else self._int_keys if cls is int else None
        if cache is not None:
            data = cache.get(key)
            if data is None:
                data = self.key_serde.dumps(key)
                assert data is not None
                if len(cache) >= CACHE_MAX:
                    cache.clear()
                cache[key] = data
            return data
        if key is None:
            raise TypeError(f"table {self.table!r}: keys cannot be None")
        if self._json_keys and isinstance(key, bytes):
            return BYTES_TAG + key
        data = self.key_serde.dumps(key)
        assert data is not None
        return data

    def decode_key(self, data: bytes) -> Any:
        if self._json_keys and data[:1] == BYTES_TAG:
            return data[1:]
        key = self.key_serde.loads(data)
        return freeze(key) if self.key_type is None else key

    def partition_bytes(self, data: bytes) -> bytes:
        """The bytes that choose the partition of the key encoded as ``data``: what a
        topic's default key serializer makes of the key (Faust's and Kafka's keys are
        raw bytes, text as UTF-8), so the table and its source topic agree."""
        if not self._json_keys:
            return data
        if data[:1] == BYTES_TAG:
            return data[1:]
        if data[:1] == b'"':
            key = self.key_serde.codec.loads(data)
            if isinstance(key, str):
                return key.encode()
        return data

    def dump_value(self, value: Any) -> bytes:
        """The value's bytes (TypeError for None unless values are JSON)."""
        cls = value.__class__
        if cls in self.numbers and finite(value):
            # a number's JSON is its repr; remember it so reading it back in this batch
            # (``table[k] += x`` on a hot key) skips the JSON decoder
            data = repr(value).encode()
            memo = self._memo
            if len(memo) >= CACHE_MAX:
                memo.clear()
            memo[data] = value
            return data
        if value is None:
            if not self._json_values:
                raise TypeError(f"table {self.table!r}: cannot store None; delete the key")
            return b"null"
        if self._json_values and isinstance(value, bytes):
            return BYTES_TAG + value
        encoded = self.value_serde.dumps(value)
        assert encoded is not None
        return encoded

    def remember(self, data: bytes, value: Any) -> None:
        """Note that ``data`` is the encoding of the number ``value`` (one of
        :attr:`numbers`), so reading ``data`` back skips the JSON decoder."""
        memo = self._memo
        if len(memo) >= CACHE_MAX:
            memo.clear()
        memo[data] = value

    def load_value(self, data: bytes) -> Any:
        value = self._memo.get(data)
        if value is not None:
            return value
        if self._json_values:
            if data == b"null":
                return None
            if data[:1] == BYTES_TAG:
                return data[1:]
        return self.value_serde.loads(data)


class SetCodec(TableCodec):
    """A set table's values: the whole set of a key as a list, members sorted by repr."""

    __slots__ = ()

    def dump_value(self, value: Iterable[Any]) -> bytes:
        """Any iterable of members (duplicates collapse); model members reach a codec
        other than JSON as their field dicts, as ``Model.dumps()`` gives them."""
        members = sorted(set(value), key=repr)
        codec = self.value_serde.codec
        if not self._json_values:
            members = [_representation(m) for m in members]
        return codec.dumps(members)

    def load_value(self, data: bytes) -> set[Any]:
        member = self.member
        return {member(m) for m in self.value_serde.codec.loads(data)}

    def member(self, obj: Any) -> Any:
        """One member as the table's value type reads it."""
        t = self.value_type
        from_data = getattr(t, "from_data", None)
        if from_data is not None:
            return from_data(obj)
        if t in _SCALARS and not isinstance(obj, t):
            return t(obj)
        return freeze(obj)
