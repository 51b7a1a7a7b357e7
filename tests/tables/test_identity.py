"""Keys and values keep their identity through a table (#9 §3)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import streamctl
from streamctl import App
from streamctl.models import codecs
from streamctl.models.codecs import Codec, register_codec
from streamctl.models.exceptions import ValidationError
from streamctl.testing import read_table, read_topic, run_until_idle, send


@pytest.fixture(autouse=True)
def _codec_registry():
    """The codecs these tests register are gone afterwards (the registry is process-wide:
    a later test listing the known serializers must not see them)."""
    saved = dict(codecs.CODECS), dict(codecs._LAZY)
    yield
    for registry, before in zip((codecs.CODECS, codecs._LAZY), saved):
        registry.clear()
        registry.update(before)


WORDS = [b"2024", b"true", b"hello", b"2024", b"null", b'"q"', b"\xff"]


@pytest.mark.parametrize("store", ["sqlite://", "memory://"])
def test_faust_word_count_keeps_bytes_keys(tmp_path: Path, store: str) -> None:
    # Faust's word count: a topic with no key type (keys are bytes), table[key] += 1,
    # read after app.run(until_idle=True) returned, with either store
    app = App("wc", broker="memory://", datadir=tmp_path, store=store)
    words = app.topic("words", partitions=2)
    counts = app.Table("counts", default=int, partitions=2)

    @app.agent(words)
    async def count(stream: Any) -> None:
        async for key, _ in stream.items():
            counts[key] += 1

    for w in WORDS:
        send(app, "words", {}, key=w)
    app.run(until_idle=True)
    want = {b"2024": 2, b"true": 1, b"hello": 1, b"null": 1, b'"q"': 1, b"\xff": 1}
    assert len(counts) == 6
    assert dict(counts.items()) == want
    assert sorted(counts.keys()) == sorted(want)
    assert counts.copy() == want
    assert counts[b"2024"] == 2 and b"2024" in counts and 2024 not in counts


def test_bytes_typed_table_reads_back_bytes(tmp_path: Path) -> None:
    app = App("bt", broker="memory://", datadir=tmp_path)
    t = app.Table("raw", key_type=bytes, value_type=bytes, partitions=2)
    untyped = app.Table("any", partitions=2)
    for table in (t, untyped):
        table[b"k"] = b"123"
        table[b"h"] = b"hello"
        table[b"n"] = b"null"
        assert (table[b"k"], table[b"h"], table[b"n"]) == (b"123", b"hello", b"null")
    from streamctl.worker import commit

    app.ensure_topics()
    commit.commit_batch(t, app.producer)
    commit.commit_batch(untyped, app.producer)
    untyped["text"] = "123"  # text stays text, numbers stay numbers
    untyped[7] = 123
    assert dict(t.items()) == {b"k": b"123", b"h": b"hello", b"n": b"null"}
    assert dict(untyped.items()) == {
        b"k": b"123",
        b"h": b"hello",
        b"n": b"null",
        "text": "123",
        7: 123,
    }


class Point(streamctl.Record, serializer="points"):
    x: int
    y: int


class PointCodec(Codec):
    """A codec that, as in Faust, is given the Record's field dict."""

    seen: list[Any] = []

    def dumps(self, obj: Any) -> bytes:
        PointCodec.seen.append(type(obj))
        return f"{obj['x']};{obj['y']}".encode()

    def loads(self, data: bytes) -> Any:
        x, y = data.decode().split(";")
        return {"x": int(x), "y": int(y)}


def test_custom_codec_gets_the_field_dict_everywhere(tmp_path: Path) -> None:
    register_codec("points", PointCodec)
    PointCodec.seen.clear()
    p = Point(x=1, y=2)
    assert p.dumps() == b"1;2"
    app = App("pc", broker="memory://", datadir=tmp_path)
    points = app.topic("points", partitions=1, value_type=Point)
    out = app.topic("out", partitions=1, value_type=Point)
    table = app.Table("last", partitions=1, value_type=Point)

    @app.agent(points, sink=[out])
    async def keep(stream: Any) -> Any:
        async for point in stream:
            table["last"] = point
            yield Point(x=point.x * 10, y=point.y * 10)

    send(app, "points", p)
    run_until_idle(app)
    assert [e.value for e in read_topic(app, "out")] == [Point(x=10, y=20)]
    assert [e.message.value for e in read_topic(app, "out")] == [b"10;20"]
    assert table["last"] == p
    assert set(PointCodec.seen) == {dict}


class PointsCodec(Codec):
    """A set table's members through a custom codec: a list of field dicts."""

    def dumps(self, obj: Any) -> bytes:
        return "|".join(f"{m['x']};{m['y']}" for m in obj).encode()

    def loads(self, data: bytes) -> Any:
        pairs = [part.split(";") for part in data.decode().split("|") if part]
        return [{"x": int(x), "y": int(y)} for x, y in pairs]


def test_custom_codec_gets_field_dicts_of_set_members(tmp_path: Path) -> None:
    register_codec("pointlist", PointsCodec)
    app = App("ps", broker="memory://", datadir=tmp_path)
    seen = app.SetTable("seen", partitions=1, value_type=Point, value_serializer="pointlist")
    app.ensure_topics()
    seen["a"].add(Point(x=1, y=2))
    seen["a"].add(Point(x=3, y=4))
    from streamctl.worker import commit

    commit.commit_batch(seen, app.producer)
    assert seen["a"] == {Point(x=1, y=2), Point(x=3, y=4)}
    app.close()
    again = App("ps", broker="memory://", datadir=tmp_path)
    table = again.SetTable("seen", partitions=1, value_type=Point, value_serializer="pointlist")
    assert read_table(again, "seen") == {"a": {Point(x=1, y=2), Point(x=3, y=4)}}
    assert table is again.tables["seen"]


class Account(streamctl.Record):
    id: str
    balance: float = 0.0


class Transfer(streamctl.Record, validation=True):
    accounts: tuple[Account, Account]
    at: tuple[int, datetime]


def test_typing_tuple_is_parsed_like_tuple() -> None:
    from streamctl.models.typeexpr.nodes import parse_type

    faust_style = parse_type(tuple[Account, Account])  # Faust's spelling
    assert faust_style.kind == "fixed_tuple"
    assert [a.type for a in faust_style.args] == [Account, Account]


def test_tuple_fields_convert_each_position() -> None:
    t = Transfer(accounts=(Account(id="a"), Account(id="b", balance=2.5)), at=(1, "2024-01-02"))
    back = Transfer.loads(t.dumps())
    assert back.accounts == (Account(id="a"), Account(id="b", balance=2.5))
    assert all(type(a) is Account for a in back.accounts)
    assert back.at == (1, datetime(2024, 1, 2))
    raw = json.loads(t.dumps())
    assert raw["at"] == [1, "2024-01-02T00:00:00"]
    data = {"accounts": [{"id": "a"}, {"id": "b"}], "at": ["7", "2024-01-02T03:04:05"]}
    loaded = Transfer.from_data(data)
    assert loaded.accounts == (Account(id="a"), Account(id="b")) and loaded.at[0] == 7


@pytest.mark.parametrize(
    ("at", "field"),
    [(("x", "2024-01-02"), "at[0]"), ((1, "not a date"), "at[1]"), ((1,), "at")],
)
def test_tuple_fields_are_validated(at: Any, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        Transfer(accounts=(Account(id="a"), Account(id="b")), at=at)
    assert f"Transfer.{field}" in str(info.value)
