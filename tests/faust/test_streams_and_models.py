"""Faust's stream, test-context and model behaviour (#12): group_by on fields, callables
and async keys, filter().group_by(), test_context with group_by and sinkless agents,
Records revived from untyped topics and tables, and the smaller helpers."""

from __future__ import annotations

import asyncio
import json

import pytest
from faust_support import fresh_dir  # noqa: F401 (autouse)

import streamctl as faust
from streamctl.agents import AgentError
from streamctl.models import FieldDescriptor, StringField
from streamctl.testing import read_table, read_topic


class View(faust.Record):
    page: str
    user: str = ""


def run_views(group: object, name: str | None = None) -> dict[str, int]:
    app = faust.App("views-app")
    views = app.topic("views", value_type=View, partitions=2)
    counts = app.Table("counts", default=int, partitions=2)

    @app.agent(views)
    async def count(stream):
        regrouped = stream.group_by(group, name=name) if name else stream.group_by(group)
        async for v in regrouped:
            counts[v.page] += 1

    for page in ("home", "about", "home"):
        asyncio.run(views.send(value=View(page=page)))
    app.run(until_idle=True)
    return read_table(app, "counts")


def test_group_by_a_field_descriptor_reads_the_field_and_is_named_by_it() -> None:
    assert run_views(View.page) == {"home": 2, "about": 1}


def test_group_by_field_topic_is_named_by_the_fields_ident_as_in_faust() -> None:
    # Faust names it with FieldDescriptor.ident ("Model.field"): a Faust app on the same
    # cluster reads the same repartition topic
    app = faust.App("named")
    views = app.topic("views", value_type=View)
    assert View.page.ident == "View.page"
    child = faust.Stream(views).group_by(View.page)
    assert child.topic.name == "named-views-View.page-repartition"
    renamed = faust.Stream(app.topic("others", value_type=View)).group_by(View.page, name="pg")
    assert renamed.topic.name == "named-others-pg-repartition"


def test_group_by_a_key_function_without_a_name_is_refused_as_in_faust() -> None:
    app = faust.App("unnamed")
    views = app.topic("views", value_type=View)

    def page_of(view: View) -> str:
        return view.page

    for key in (page_of, lambda v: v.page):
        with pytest.raises(TypeError, match=r"needs name=: a key function does not name"):
            faust.Stream(views).group_by(key)
    assert faust.Stream(views).group_by(page_of, name="p").topic.name == (
        "unnamed-views-p-repartition"
    )


def test_group_by_a_field_with_a_name() -> None:
    assert run_views(View.page, name="by-page") == {"home": 2, "about": 1}


def test_group_by_an_async_key_function_is_awaited() -> None:
    async def page_of(view: View) -> str:
        await asyncio.sleep(0)
        return view.page

    assert run_views(page_of, name="page_of") == {"home": 2, "about": 1}


def regrouped_keys(app: faust.App, source: faust.Topic) -> list[object]:
    """The keys an agent sees after ``group_by(View.page)`` on ``source``, and the bytes
    the repartition topic holds (sorted)."""
    seen: list[object] = []

    @app.agent(source)
    async def regroup(stream):
        async for event in stream.group_by(View.page).events():
            seen.append(event.key)

    for page in ("home", "about"):
        asyncio.run(source.send(value=View(page=page)))
    assert app.run(until_idle=True) == 0
    stored = read_topic(app, f"{app.id}-{source.name}-View.page-repartition")
    return [sorted(seen, key=repr), sorted(e.message.key for e in stored)]


def test_group_by_keys_use_the_source_topics_key_serializer_as_faust_derives_it() -> None:
    # Faust's group_by derives the repartition topic from its source, key serializer and
    # key type included: the default raw serializer writes text as its UTF-8 bytes
    untyped = faust.App("raw-keys")
    assert regrouped_keys(untyped, untyped.topic("views", value_type=View)) == [
        [b"about", b"home"],
        [b"about", b"home"],
    ]
    text = faust.App("text-keys")
    assert regrouped_keys(text, text.topic("text-views", key_type=str, value_type=View)) == [
        ["about", "home"],
        [b"about", b"home"],
    ]
    as_json = faust.App("json-keys", key_serializer="json")
    assert regrouped_keys(as_json, as_json.topic("json-views", value_type=View)) == [
        ["about", "home"],
        [b'"about"', b'"home"'],
    ]


def test_a_group_by_key_the_raw_serializer_cannot_write_stops_naming_the_fix() -> None:
    app = faust.App("int-keys")
    views = app.topic("views", value_type=View)

    @app.agent(views)
    async def regroup(stream):
        async for _ in stream.group_by(lambda v: len(v.page), name="length"):
            pass

    asyncio.run(views.send(value=View(page="home")))
    with pytest.raises(AgentError) as failed:
        app.run(until_idle=True)
    assert (
        "TypeError: the new key 4 (int) cannot be written by the raw key serializer of "
        "'int-keys-views-length-repartition', taken from the source topic: return text or "
        "bytes, or declare the source topic with key_type= or key_serializer='json'"
    ) in str(failed.value)


def test_filter_then_group_by() -> None:
    app = faust.App("r14")
    t = app.topic("t")
    big = app.Table("big", default=int)

    @app.agent(t)
    async def count(stream):
        async for v in stream.filter(lambda v: v["amount"] > 1000).group_by(
            lambda v: v["account"], name="account"
        ):
            big[v["account"]] += v["amount"]

    for account, amount in (("a", 5000), ("a", 10), ("b", 2000), ("a", 1001)):
        asyncio.run(t.send(value={"account": account, "amount": amount}))
    app.run(until_idle=True)
    assert read_table(app, "big") == {"a": 6001, "b": 2000}


def test_test_context_applies_group_by_and_keys_results_by_offset() -> None:
    app = faust.App("r08")

    class Order(faust.Record):
        account: str

    orders = app.topic("orders", value_type=Order)
    keys = []

    @app.agent(orders)
    async def process(stream):
        async for event in stream.group_by(Order.account).events():
            keys.append(event.key)
            yield event.value

    async def test() -> None:
        async with process.test_context() as agent:
            e1 = await asyncio.wait_for(agent.put(Order(account="a")), 5)
            e2 = await asyncio.wait_for(agent.put(Order(account="b")), 5)
            assert agent.results == {e1.message.offset: Order("a"), e2.message.offset: Order("b")}

    asyncio.run(test())
    assert keys == ["a", "b"]


def test_test_context_results_for_an_agent_that_does_not_yield() -> None:
    app = faust.App("r09")
    orders = app.topic("orders", value_type=str)
    seen = []

    @app.agent(orders)
    async def consume(stream):
        async for order in stream:
            seen.append(order)

    async def test() -> None:
        async with consume.test_context() as agent:
            event = await agent.put("o-1")
            assert seen == ["o-1"]
            assert agent.results[event.message.offset] is None
            event = await agent.put("o-2", "k", timestamp=12.5)  # Faust's positional key
            assert (event.key, event.message.timestamp) == ("k", 12.5)

    asyncio.run(test())


def test_records_come_back_as_records_from_untyped_topics_and_tables() -> None:
    app = faust.App("r11")

    class Product(faust.Record):
        id: int
        name: str

    register = app.topic("register", value_type=Product)
    catalog = app.Table("catalog", key_type=int)
    shelf = app.topic("shelf")
    got = []

    @app.agent(register, sink=[shelf])
    async def add(stream):
        async for product in stream:
            catalog[product.id] = product
            got.append(catalog[product.id])
            yield product

    @app.agent(shelf)
    async def show(stream):
        async for value in stream:
            got.append(value)

    asyncio.run(register.send(value=Product(id=1, name="lamp")))
    app.run(until_idle=True)
    assert got == [Product(id=1, name="lamp"), Product(id=1, name="lamp")]
    assert read_table(app, "catalog") == {1: Product(id=1, name="lamp")}


def test_records_inside_a_stored_list_come_back_as_records() -> None:
    # Faust's windowed aggregation example keeps a list of Records per window; its
    # default in-memory store gives the objects back, so a stored value must too
    app = faust.App("nested")

    class Reading(faust.Record):
        value: float

    readings = app.topic("readings", value_type=Reading)
    history = app.Table("history", default=list)
    batches = app.topic("batches")
    unknown = [{"x": 1, "__faust": {"ns": "os.system"}}]
    got = []

    @app.agent(readings)
    async def collect(stream):
        async for reading in stream:
            values = history["all"]
            values.append(reading)
            history["all"] = values
            history["odd"] = unknown
            got.append(history["all"])
            await batches.send(value={"last": [reading]})

    @app.agent(batches)
    async def show(stream):
        async for value in stream:
            got.append(value)

    for v in (1.0, 2.0):
        asyncio.run(readings.send(value=Reading(value=v)))
    app.run(until_idle=True)
    one, two = Reading(value=1.0), Reading(value=2.0)
    assert [v for v in got if isinstance(v, list)] == [[one], [one, two]]
    assert read_table(app, "history") == {"all": [one, two], "odd": unknown}  # no import
    # a message gives back only its top-level Record (Faust's _maybe_reconstruct):
    # Records nested in it stay dicts, as in Faust
    nested = [v["last"][0] for v in got if isinstance(v, dict)]
    assert [type(n) for n in nested] == [dict, dict]
    assert sorted(n["value"] for n in nested) == [1.0, 2.0]


def test_only_registered_records_are_revived() -> None:
    app = faust.App("r11b")
    t = app.topic("untyped")
    data = {"x": 1, "__faust": {"ns": "os.system"}}
    asyncio.run(t.send(value=json.dumps(data).encode()))
    (event,) = read_topic(app, "untyped")
    assert event.value == data  # an unknown namespace stays a dict: no import, no call


def test_field_descriptor_is_generic_as_in_faust() -> None:
    class ChoiceField(FieldDescriptor[str]):  # type: ignore[misc]
        pass

    assert FieldDescriptor[str] is FieldDescriptor
    assert issubclass(ChoiceField, FieldDescriptor)
    assert StringField[str] is StringField


def test_from_data_keeps_unknown_keys() -> None:
    class P(faust.Record):
        x: int

    p = P.from_data({"x": 1, "extra": 2})
    assert (p.x, p.extra) == (1, 2)
    assert p.asdict() == {"x": 1}


def test_as_ansitable() -> None:
    app = faust.App("r18", store="memory://")
    t = app.Table("counts", default=int)
    t["b"] = 2
    t["a"] = 10
    text = t.as_ansitable(key="word", value="count", title="$$ TALLY $$", sort=True)
    assert text == "\n".join(
        [
            "+$$ TALLY $$---+",
            "| word | count |",
            "+------+-------+",
            "| a    | 10    |",
            "| b    | 2     |",
            "+------+-------+",
        ]
    )


def test_global_table_writes_say_how_to_fill_one() -> None:
    app = faust.App("r16")
    g = app.GlobalTable("g", default=dict, partitions=1)
    with pytest.raises(NotImplementedError, match="changelog_topic.send.*changelog_topic="):
        g["x"] = {"seen": True}


def test_a_global_table_filled_through_its_changelog_from_an_agent() -> None:
    # the documented pattern (Faust's FastAPI example): write the changelog, every
    # worker's GlobalTable follows it; on_changelog_event sees each record applied
    app = faust.App("r16b")
    t = app.topic("t", value_type=str)
    changes = []
    g = app.GlobalTable(
        "g", default=dict, partitions=1, on_changelog_event=lambda e: changes.append(e.key)
    )

    @app.agent(t)
    async def write(stream):
        async for v in stream:
            await g.changelog_topic.send(key=v, value={"seen": True})

    for v in ("x", "y"):
        asyncio.run(t.send(value=v))
    app.run(until_idle=True)
    assert read_table(app, "g") == {"x": {"seen": True}, "y": {"seen": True}}
    # the next worker replays the changelog into its GlobalTable, record by record
    again = faust.App("r16b")
    again.GlobalTable(
        "g", default=dict, partitions=1, on_changelog_event=lambda e: changes.append(e.key)
    )
    again.run(until_idle=True)
    assert changes[-2:] == ["x", "y"]
