"""SetTable and SetGlobalTable: the spec's set API, its changelog records, read-only globals."""

from __future__ import annotations

import json

import pytest
from tables_support import App, in_event, run_batch

from streamctl.tables import SetGlobalTable, SetTable


@pytest.fixture(params=["sqlite://", "memory://"])
def app(request, tmp_path, transport):
    return App("app", tmp_path, table_store=request.param, topic_partitions=2, transport=transport)


@pytest.fixture
def sets(app):
    return SetTable(app, name="sessions")


def test_properties(sets):
    assert sets.name == "sessions" and sets.default is set
    assert sets.changelog_topic.name == "app-sessions-changelog"


def test_add_contains_discard(sets):
    sets.add("u", "s1")
    sets.add("u", "s2")
    assert ("u", "s1") in sets and ("u", "s3") not in sets
    assert sets["u"] == {"s1", "s2"}
    sets.discard("u", "s1")
    sets.discard("u", "absent")
    assert sets["u"] == {"s2"}


def test_remove(sets):
    sets.add("u", 1)
    sets.remove("u", 1)
    with pytest.raises(KeyError):
        sets.remove("u", 1)
    with pytest.raises(KeyError):
        sets.remove("nobody", 1)


def test_missing_key_is_an_empty_set(sets):
    assert sets["nobody"] == set()
    assert len(sets["nobody"]) == 0
    assert "nobody" not in sets


def test_key_membership(sets):
    sets.add("u", 1)
    assert "u" in sets and "v" not in sets
    assert list(sets.keys()) == ["u"]


def test_empty_set_deletes_the_key(sets):
    sets.add("u", 1)
    sets.discard("u", 1)
    assert "u" not in sets and len(sets) == 0


def test_intersection_and_union(sets):
    sets.add("u", 1)
    sets.add("u", 2)
    sets.add("u", 3)
    assert sets.intersection("u", {2, 3, 4}) == {2, 3}
    assert sets.intersection("u", {2, 3}, [3]) == {3}
    assert sets.union("u", {4}, [5]) == {1, 2, 3, 4, 5}
    assert sets.union("nobody") == set()


def test_view_is_live_and_faust_style_add_works(sets):
    view = sets["u"]
    view.add("a")
    sets["u"].add("b")
    assert view == {"a", "b"} and "a" in view
    view.discard("a")
    assert sets["u"] == {"b"}
    assert view | {"c"} == {"b", "c"} and isinstance(view | {"c"}, set)


def test_setitem_replaces_and_delitem(sets):
    sets["u"] = [1, 2]
    sets["u"] = {3}
    assert sets["u"] == {3}
    del sets["u"]
    assert "u" not in sets
    with pytest.raises(KeyError):
        del sets["u"]
    sets["v"] = []
    assert "v" not in sets


def test_items_values_copy(sets, producer):
    sets.add("a", 1)
    sets.add("b", 2)
    run_batch(sets, producer)
    sets.add("b", 3)
    assert sets.copy() == {"a": {1}, "b": {2, 3}}
    assert sorted(map(sorted, sets.values())) == [[1], [2, 3]]


def test_changelog_carries_the_whole_set_once_per_batch(sets, transport, producer):
    with in_event(1):
        for i in range(10):
            sets.add("u", i)
        sets.discard("u", 0)
    assert sets.prepare_commit(producer) == 1
    sets.commit(producer.flush())
    [record] = [m for log in transport.logs.values() for m in log]
    assert record.partition == 1
    assert json.loads(record.value) == list(range(1, 10))


def test_emptied_set_is_a_tombstone(sets, transport, producer):
    with in_event(0):
        sets.add("u", 1)
    run_batch(sets, producer)
    with in_event(0):
        sets.remove("u", 1)
    run_batch(sets, producer)
    assert [m.value for log in transport.logs.values() for m in log] == [b"[1]", None]


def test_typed_and_tuple_members_survive_the_store(app, producer):
    ints = SetTable(app, name="ints", value_type=int)
    ints.add("k", 1)
    pairs = SetTable(app, name="pairs")
    pairs.add("k", ("a", 1))
    run_batch(ints, producer)
    run_batch(pairs, producer)
    assert ints["k"] == {1}
    assert ("k", ("a", 1)) in pairs


def test_default_argument_is_ignored(app):
    assert SetTable(app, name="s", default=list).default is set


class TestSetGlobalTable:
    @pytest.fixture
    def gset(self, app):
        return SetGlobalTable(app, name="g")

    @pytest.mark.parametrize(
        "op",
        [
            lambda t: t.add("k", 1),
            lambda t: t.discard("k", 1),
            lambda t: t.remove("k", 1),
            lambda t: t.__setitem__("k", {1}),
            lambda t: t.__delitem__("k"),
            lambda t: t["k"].add(1),
            lambda t: t.clear(),
        ],
    )
    def test_read_only(self, gset, op):
        with pytest.raises(NotImplementedError):
            op(gset)

    def test_reads_what_the_changelog_says(self, gset, transport, app):
        writer = SetTable(app, name="w", changelog_topic=gset.changelog_topic)
        writer.add("k", 1)
        writer.add("k", 2)
        run_batch(writer, transport.producer())
        gset.recover(transport)
        assert gset["k"] == {1, 2} and gset.is_global
        assert gset.intersection("k", [2]) == {2}
