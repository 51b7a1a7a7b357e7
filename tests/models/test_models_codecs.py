"""Codecs: byte format, orjson/stdlib equivalence, binary, composition and the registry."""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
from types import SimpleNamespace

import pytest
from support import ROOT

from streamctl.exceptions import ConfigurationError, DecodeError
from streamctl.models import codecs
from streamctl.models.codecs import (
    Codec,
    ComposedCodec,
    JSONCodec,
    _stdlib_loads,
    available_codecs,
    get_codec,
    register_codec,
)


def test_json_bytes_are_compact_utf8():
    out = get_codec("json").dumps({"a": [1, 2.5, None, True], "é": "☃\n\u2028"})
    assert out == '{"a":[1,2.5,null,true],"é":"☃\\n\u2028"}'.encode()


def test_json_refuses_nan_both_ways():
    with pytest.raises(ValueError):
        get_codec("json").dumps({"x": math.nan})
    for doc in (b"NaN", b"[Infinity]", b"-Infinity", b"1e999"):
        with pytest.raises(DecodeError):
            get_codec("json").loads(doc)


def _corpus():
    rnd = random.Random(7)
    docs = [
        b'{"id":123,"name":"x","p":19.99}',
        b"123456789012345678901234567890",
        b"[18446744073709551615, 18446744073709551616, -9223372036854775809]",
        b'"\\ud800"',
        b'"\\ud83d\\ude00 \\u00e9"',
        b"[1e308, 5e-324, -0.0, 0.1, 1E5, 2.5e-7]",
        b'{"a":1,"a":2}',
        b"[" * 500 + b"]" * 500,
        b" \t\n[1]\n",
        b"\xef\xbb\xbf[1]",
        b"[1,]",
        b"{'a': 1}",
        b"[01]",
        b'"\x01"',
        b"tru",
        b"",
    ]
    for _ in range(300):
        value = [rnd.uniform(-1e20, 1e20), rnd.randint(-(2**70), 2**70), "é" * rnd.randint(0, 5)]
        docs.append(json.dumps(value).encode())
    return docs


@pytest.mark.parametrize("doc", _corpus()[:16], ids=lambda d: repr(d[:30]))
def test_fast_and_stdlib_decoders_agree(doc):
    _assert_same(doc)


def test_fast_and_stdlib_decoders_agree_on_random_numbers():
    for doc in _corpus()[16:]:
        _assert_same(doc)


def _assert_same(doc):
    codec = JSONCodec()
    try:
        expected = ("ok", _stdlib_loads(doc))
    except (ValueError, RecursionError) as exc:
        expected = ("error", type(exc))
    try:
        got = ("ok", codec.loads(doc))
    except DecodeError:
        got = ("error", None)
    assert got[0] == expected[0]
    if got[0] == "ok":
        assert json.dumps(got[1]) == json.dumps(expected[1])
        assert type(got[1]) is type(expected[1])


@pytest.mark.parametrize(
    "doc",
    [b'"\\ud800"', b'"\\uDE00"', b'{"\\ud83d": 1}', b'["a\\ud83d b"]', b'"\\ud83d\\ud83d"'],
)
def test_lone_surrogates_are_refused_by_both_decoders(doc):
    # a lone surrogate decodes to a str that cannot be written as UTF-8 again
    with pytest.raises(DecodeError, match="lone surrogate"):
        get_codec("json").loads(doc)
    with pytest.raises(ValueError, match="lone surrogate"):
        _stdlib_loads(doc)


def test_surrogate_pairs_and_escaped_backslashes_are_kept():
    doc = b'["\\ud83d\\ude00", "\\uD83D\\uDE00", "\\\\ud800"]'
    assert (
        get_codec("json").loads(doc)
        == _stdlib_loads(doc)
        == ["\U0001f600", "\U0001f600", "\\ud800"]
    )


def test_deep_nesting_is_an_error_not_a_crash():
    # orjson 3.8 overflows the C stack on {"a": x 100k (a segfault): run it in a child
    code = (
        "from streamctl.models.codecs import get_codec\n"
        "from streamctl.exceptions import DecodeError\n"
        "for doc in (b'{\"a\":' * 100_000 + b'1' + b'}' * 100_000,\n"
        "            b'[' * 100_000 + b']' * 100_000, b'[' * 100_000):\n"
        "    try:\n"
        "        get_codec('json').loads(doc)\n"
        "    except DecodeError as exc:\n"
        "        print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines() == ["invalid JSON: nested too deeply"] * 3


def test_binary_and_composition():
    b = get_codec("binary")
    assert b.dumps(b"\x00\xff") == b"AP8="
    assert b.loads(b"AP8=") == b"\x00\xff"
    with pytest.raises(DecodeError):
        b.loads(b"!!!")
    jb = get_codec("json|binary")
    assert isinstance(jb, ComposedCodec) and jb.name == "json|binary"
    assert jb.dumps({"a": 1}) == b"eyJhIjoxfQ=="
    assert jb.loads(b"eyJhIjoxfQ==") == {"a": 1}
    assert get_codec("json|binary") is jb
    assert (get_codec("json") | get_codec("binary")).dumps([1]) == b"WzFd"


class Upper(Codec):
    def dumps(self, obj):
        return str(obj).upper().encode()

    def loads(self, data):
        return data.decode().lower()


def test_register_lazy_and_instances(monkeypatch):
    monkeypatch.setattr(codecs, "CODECS", dict(codecs.CODECS))
    monkeypatch.setattr(codecs, "_LAZY", {})
    register_codec("upper", f"{__name__}:Upper")
    assert "upper" not in codecs.CODECS
    codec = get_codec("upper")
    assert isinstance(codec, Upper) and codec.name == "upper"
    assert get_codec("upper|binary").loads(get_codec("upper|binary").dumps("ab")) == "ab"
    register_codec("up2", Upper)
    assert isinstance(get_codec("up2"), Upper)
    register_codec("broken", "no.such.module:X")
    with pytest.raises(ConfigurationError, match="cannot load codec 'broken'"):
        get_codec("broken")
    register_codec("notacodec", "json:dumps")
    with pytest.raises(ConfigurationError, match="not a streamctl Codec"):
        get_codec("notacodec")
    with pytest.raises(ValueError):
        register_codec("a|b", Upper)


def test_entry_points_are_read_lazily(monkeypatch):
    monkeypatch.setattr(codecs, "CODECS", dict(codecs.CODECS))
    monkeypatch.setattr(codecs, "_LAZY", {})
    calls = []

    def fake_entry_points(group):
        calls.append(group)
        return [SimpleNamespace(name="shout", value=f"{__name__}:Upper")]

    import importlib.metadata

    monkeypatch.setattr(importlib.metadata, "entry_points", fake_entry_points)
    get_codec("json")
    assert calls == []
    assert isinstance(get_codec("shout"), Upper)
    assert calls == ["streamctl.codecs"]
    assert "shout" in available_codecs()


def test_unknown_codec_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="unknown serializer 'nope'"):
        get_codec("nope")
    with pytest.raises(ConfigurationError):
        get_codec("json|nope")


def test_json_encoding_is_byte_identical_to_the_standard_library() -> None:
    """orjson writes the bytes where it agrees with the standard library; elsewhere the
    standard library decides (exponents, tiny floats, NaN, big ints, int keys)."""
    import json
    import random

    from streamctl.models.codecs import JSONCodec

    stdlib = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    codec = JSONCodec()
    rnd = random.Random(7)

    def value(depth: int = 0) -> object:
        kind = rnd.randrange(9 if depth < 3 else 6)
        if kind == 0:
            return rnd.random() * 10 ** rnd.randint(-30, 30) * rnd.choice([1, -1])
        if kind == 1:
            return rnd.randint(-(2**70), 2**70)
        if kind == 2:
            return "".join(
                rnd.choice('ab\u00e9\u2028\x00"\\e0.null\U0001f600')
                for _ in range(rnd.randrange(8))
            )
        if kind == 3:
            return rnd.choice([None, True, False, 0.0, -0.0, 1e16, 1e-5, 0.0001])
        if kind == 4:
            return rnd.randint(-1000, 1000)
        if kind == 5:
            return rnd.uniform(-1e6, 1e6)
        if kind == 6:
            return [value(depth + 1) for _ in range(rnd.randrange(4))]
        if kind == 7:
            return {
                rnd.choice(["a", "b", "n", "e1"]): value(depth + 1) for _ in range(rnd.randrange(4))
            }
        return {rnd.randint(0, 3): value(depth + 1)}

    for _ in range(20_000):
        obj = value()
        assert codec.dumps(obj) == stdlib.encode(obj).encode(), obj
    for bad in (float("nan"), [1, {"x": float("inf")}]):
        with pytest.raises(ValueError):
            codec.dumps(bad)


def test_json_encoding_of_objects_does_not_depend_on_their_neighbours() -> None:
    """UUIDs, enums and datetimes encode alike whether or not another field sends the
    object down the standard library's path (a null does)."""
    import dataclasses
    import datetime
    import enum
    import uuid
    from zoneinfo import ZoneInfo

    from streamctl.models.codecs import JSONCodec

    class Colour(enum.Enum):
        RED = "red"

    @dataclasses.dataclass
    class Point:
        x: int

    codec = JSONCodec()
    amsterdam_1900 = datetime.datetime(1900, 1, 1, tzinfo=ZoneInfo("Europe/Amsterdam"))
    for value, text in [
        (uuid.UUID(int=5), '"00000000-0000-0000-0000-000000000005"'),
        (Colour.RED, '"red"'),
        (amsterdam_1900, '"1900-01-01T00:00:00+00:19:32"'),
        (datetime.date(2020, 1, 2), '"2020-01-02"'),
    ]:
        assert codec.dumps({"v": value}) == f'{{"v":{text}}}'.encode()
        assert codec.dumps({"v": value, "n": None}) == f'{{"v":{text},"n":null}}'.encode()
    for obj in ({"p": Point(1)}, {"p": Point(1), "n": None}):
        with pytest.raises(TypeError):
            codec.dumps(obj)
