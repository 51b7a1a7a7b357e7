"""Table: the spec's dict API, properties and errors."""

from __future__ import annotations

import pytest
from tables_support import App, Topic, run_batch

from streamctl.exceptions import ConfigurationError
from streamctl.tables import Table


@pytest.fixture(params=["sqlite://", "memory://"])
def app(request, tmp_path, transport):
    return App("app", tmp_path, table_store=request.param, topic_partitions=4, transport=transport)


def make(app, **kw):
    kw.setdefault("name", "t")
    return Table(app, **kw)


class TestConstruction:
    def test_properties(self, app):
        t = make(app, name="scores", default=int, key_type=str, value_type=int, help="Scores.")
        assert t.name == "scores"
        assert t.default is int
        assert t.key_type is str
        assert t.value_type is int
        assert t.help == "Scores."
        assert t.partitions == 4
        assert t.window is None
        assert t.changelog_topic.name == "app-scores-changelog"
        topic = app.topics["app-scores-changelog"]
        assert topic.compacting and topic.internal

    def test_partitions_argument(self, app):
        t = make(app, partitions=3)
        assert t.partitions == 3 == t.changelog_topic.partitions
        assert t.changelog_spec().partitions == 3 and t.changelog_spec().compacting

    def test_custom_changelog_topic(self, app):
        topic = Topic("shared-changelog", 2)
        t = make(app, changelog_topic=topic)
        assert t.changelog_topic is topic
        assert t.partitions == 2
        assert "app-t-changelog" not in app.topics

    def test_partitions_must_match_custom_topic(self, app):
        with pytest.raises(ConfigurationError, match="partitions=3"):
            make(app, partitions=3, changelog_topic=Topic("x", 2))

    def test_default_must_be_callable(self, app):
        with pytest.raises(ConfigurationError, match="default must be a callable"):
            make(app, default=0)

    @pytest.mark.parametrize("name", ["", None])
    def test_name_required(self, app, name):
        with pytest.raises(ConfigurationError):
            make(app, name=name)

    def test_unknown_store(self, app):
        with pytest.raises(ConfigurationError, match="unknown table store"):
            make(app, store="nosuch://")

    def test_store_argument_beats_app_default(self, app):
        assert make(app, store="memory://").store_url == "memory://"
        assert make(app, name="u").store_url == app.conf.table_store

    def test_extra_options_kept(self, app):
        assert make(app, recovery_buffer_size=10).options == {"recovery_buffer_size": 10}


class TestGetSet:
    def test_missing_without_default(self, app):
        t = make(app)
        with pytest.raises(KeyError):
            t["nope"]

    def test_missing_with_default_is_not_inserted(self, app):
        t = make(app, default=int)
        assert t["nope"] == 0
        assert "nope" not in t
        assert len(t) == 0

    def test_increment_missing_key(self, app):
        t = make(app, default=int)
        t["a"] += 1
        t["a"] += 2
        assert t["a"] == 3
        assert "a" in t

    def test_set_get_del(self, app):
        t = make(app)
        t["k"] = {"x": [1, 2]}
        assert t["k"] == {"x": [1, 2]}
        del t["k"]
        assert "k" not in t
        with pytest.raises(KeyError):
            del t["k"]

    def test_none_value_is_a_value(self, app, producer):
        t = make(app)
        t["k"] = None
        assert "k" in t and t["k"] is None
        run_batch(t, producer)
        assert "k" in t and t["k"] is None

    def test_none_key_rejected(self, app):
        t = make(app)
        with pytest.raises(TypeError):
            t[None] = 1
        assert None not in t

    def test_get(self, app):
        t = make(app, default=int)
        t["a"] = 5
        assert t.get("a") == 5
        assert t.get("b") is None  # the default factory is not used by get()
        assert t.get("b", 7) == 7

    def test_setdefault(self, app):
        t = make(app)
        assert t.setdefault("a", [1]) == [1]
        assert t.setdefault("a", [2]) == [1]
        assert t.setdefault("n") is None and "n" in t

    def test_pop(self, app):
        t = make(app)
        t["a"] = 1
        assert t.pop("a") == 1
        assert "a" not in t
        assert t.pop("a", "d") == "d"
        with pytest.raises(KeyError):
            t.pop("a")
        with pytest.raises(TypeError):
            t.pop("a", 1, 2)

    def test_update(self, app):
        t = make(app)
        t.update({"a": 1}, b=2)
        t.update([("c", 3)])
        assert t.copy() == {"a": 1, "b": 2, "c": 3}

    def test_clear(self, app, producer):
        t = make(app)
        t.update(a=1, b=2)
        run_batch(t, producer)
        t["c"] = 3
        t.clear()
        assert len(t) == 0 and t.copy() == {}
        run_batch(t, producer)
        assert t.copy() == {}

    def test_iteration_merges_store_and_buffer(self, app, producer):
        t = make(app)
        t.update(a=1, b=2, c=3)
        run_batch(t, producer)
        t["b"] = 20
        del t["c"]
        t["d"] = 4
        assert sorted(t.keys()) == ["a", "b", "d"]
        assert sorted(t.values()) == [1, 4, 20]
        assert sorted(t.items()) == [("a", 1), ("b", 20), ("d", 4)]
        assert sorted(t) == ["a", "b", "d"]
        assert len(t) == 3 and len(t.items()) == 3
        assert ("b", 20) in t.items() and ("c", 3) not in t.items()
        assert t.copy() == {"a": 1, "b": 20, "d": 4}
        assert isinstance(t.copy(), dict)

    def test_tuple_keys_come_back_as_tuples(self, app, producer):
        t = make(app)
        t[("a", 1)] = "x"
        run_batch(t, producer)
        assert list(t.keys()) == [("a", 1)]
        assert t[("a", 1)] == "x"

    def test_typed_values(self, app, producer):
        t = make(app, key_type=int, value_type=float)
        t[1] = 2
        run_batch(t, producer)
        assert t[1] == 2.0 and isinstance(t[1], float)
        assert list(t.keys()) == [1]

    def test_identity_equality(self, app):
        t, u = make(app), make(app, name="u")
        assert t == t and t != u
        assert len({t, u}) == 2

    def test_values_are_json_not_pickle(self, app, producer, tmp_path):
        t = make(app, partitions=1)
        t["k"] = {"v": 1}
        run_batch(t, producer)
        store = t._state.store(0)
        assert list(store.items()) == [(b'"k"', b'{"v":1}')]


def test_a_window_must_be_a_window_and_only_a_table_is_windowed(tmp_path) -> None:
    from streamctl import TumblingWindow
    from streamctl.app import App
    from streamctl.exceptions import ConfigurationError

    app = App("w", datadir=tmp_path)
    with pytest.raises(ConfigurationError, match="window must be a TumblingWindow"):
        app.Table("hourly", default=int, window=3600)
    with pytest.raises(ConfigurationError, match="only a Table can be windowed"):
        app.GlobalTable("g", window=TumblingWindow(60))
