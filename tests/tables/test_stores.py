"""Store contract: every store passes the same tests; plus the registry and store_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamctl.exceptions import ConfigurationError
from streamctl.tables.exceptions import StoreCorrupt
from streamctl.tables.naming import changelog_topic_name, store_path
from streamctl.tables.stores import open_store, store_class
from streamctl.tables.stores.memory import MemoryStore
from streamctl.tables.stores.sqlite import SqliteStore


@pytest.fixture(params=["sqlite://", "memory://"])
def url(request) -> str:
    return request.param


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return store_path(tmp_path, "app", "t", 0)


@pytest.fixture
def store(url, path):
    s = open_store(url, path)
    yield s
    s.close()


class TestStoreContract:
    def test_empty(self, store):
        assert store.get(b"k") is None
        assert list(store.items()) == []
        assert store.persisted_offset() is None
        assert len(store) == 0

    def test_apply_puts_and_records_offset(self, store):
        store.apply({b"a": b"1", b"b": b"2"}, 7)
        assert store.get(b"a") == b"1"
        assert dict(store.items()) == {b"a": b"1", b"b": b"2"}
        assert store.persisted_offset() == 7
        assert len(store) == 2
        assert b"a" in store and b"zz" not in store

    def test_none_deletes(self, store):
        store.apply({b"a": b"1", b"b": b"2"}, 0)
        store.apply({b"a": None, b"missing": None}, 1)
        assert dict(store.items()) == {b"b": b"2"}
        assert store.persisted_offset() == 1

    def test_offset_none_keeps_offset(self, store):
        store.apply({b"a": b"1"}, 3)
        store.apply({b"a": b"2"}, None)
        assert store.persisted_offset() == 3
        assert store.get(b"a") == b"2"

    def test_overwrite(self, store):
        store.apply({b"a": b"1"}, 0)
        store.apply({b"a": b"22"}, 1)
        assert store.get(b"a") == b"22"

    def test_binary_keys_and_values(self, store):
        key, value = bytes(range(256)), b"\x00\xff" * 10
        store.apply({key: value}, 0)
        assert store.get(key) == value
        assert list(store.items()) == [(key, value)]

    def test_many_writes_cross_chunks(self, store):
        writes = {f"k{i}".encode(): f"v{i}".encode() for i in range(2500)}
        store.apply(writes, 2499)
        assert dict(store.items()) == writes
        store.apply({f"k{i}".encode(): None for i in range(0, 2500, 2)}, 2500)
        assert len(store) == 1250

    def test_reset(self, store):
        store.apply({b"a": b"1"}, 9)
        store.reset()
        assert list(store.items()) == []
        assert store.persisted_offset() is None

    def test_close_twice(self, store):
        store.close()
        store.close()


class TestSqliteStore:
    def test_survives_reopen(self, path):
        s = open_store("sqlite://", path)
        s.apply({b"a": b"1"}, 4)
        s.close()
        s = open_store(None, path)
        assert dict(s.items()) == {b"a": b"1"}
        assert s.persisted_offset() == 4
        s.close()

    def test_wal_mode(self, path):
        import sqlite3

        open_store(None, path).close()
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"

    def test_other_process_reads_committed_batch(self, path):
        import sqlite3

        s = open_store(None, path)
        s.apply({b"a": b"1", b"b": b"2"}, 1)
        with sqlite3.connect(path) as conn:
            rows = dict(conn.execute("SELECT key, value FROM data").fetchall())
            (offset,) = conn.execute("SELECT value FROM meta").fetchone()
        assert rows == {b"a": b"1", b"b": b"2"} and offset == 1
        s.close()

    def test_garbage_file_is_corrupt(self, path):
        path.parent.mkdir(parents=True)
        path.write_bytes(b"not a database at all" * 50)
        with pytest.raises(StoreCorrupt):
            open_store(None, path)

    def test_damaged_pages_are_corrupt(self, path):
        s = open_store(None, path)
        s.apply({str(i).encode(): b"x" * 100 for i in range(3000)}, 1)
        s.close()
        data = bytearray(path.read_bytes())
        for i in range(100, len(data)):
            data[i] = (i * 7) & 0xFF
        path.write_bytes(bytes(data))
        with pytest.raises(StoreCorrupt):
            open_store(None, path)

    def test_remove_then_open_is_empty(self, path):
        s = open_store(None, path)
        s.apply({b"a": b"1"}, 0)
        s.close()
        SqliteStore.remove("sqlite://", path)
        assert not path.exists()
        s = open_store(None, path)
        assert list(s.items()) == [] and s.persisted_offset() is None
        s.close()

    def test_no_pickle(self, path):
        s = open_store(None, path)
        s.apply({b'"k"': b"[1,2]"}, 0)
        s.close()
        assert b"[1,2]" in path.read_bytes() or b"[1,2]" in Path(f"{path}-wal").read_bytes()


class TestRegistry:
    @pytest.mark.parametrize(
        ("url", "cls"),
        [
            (None, SqliteStore),
            ("sqlite://", SqliteStore),
            ("sqlite", SqliteStore),
            ("memory://", MemoryStore),
            ("memory", MemoryStore),
        ],
    )
    def test_builtin(self, url, cls):
        assert store_class(url) is cls

    def test_unknown(self):
        with pytest.raises(ConfigurationError, match="unknown table store 'rocksdb'"):
            store_class("rocksdb://")


class TestNames:
    def test_changelog_topic_name(self):
        assert changelog_topic_name("orders", "revenue") == "orders-revenue-changelog"

    def test_store_path(self, tmp_path):
        assert store_path(tmp_path, "orders", "revenue", 3) == (
            tmp_path / "stores" / "orders" / "revenue" / "3.sqlite3"
        )

    @pytest.mark.parametrize("name", ["../x", "a/b", "..", "", "a b"])
    def test_store_path_rejects_unsafe_names(self, tmp_path, name):
        with pytest.raises(ConfigurationError):
            store_path(tmp_path, "app", name, 0)

    def test_store_path_rejects_negative_partition(self, tmp_path):
        with pytest.raises(ValueError):
            store_path(tmp_path, "app", "t", -1)
