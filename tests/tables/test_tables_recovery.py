"""Recovery: stores rebuilt from changelogs after loss or corruption, refused when ahead."""

from __future__ import annotations

import logging
import shutil

import pytest
from tables_support import App, in_event, run_batch

from streamctl.tables import GlobalTable, SetTable, Table
from streamctl.tables.exceptions import StoreAheadOfLog
from streamctl.tables.stores.sqlite import SqliteStore
from streamctl.testing import MemoryTransport
from streamctl.transport.base import TopicPartition


@pytest.fixture(params=["memory", "local"])
def transport(request, tmp_path):
    if request.param == "memory":
        yield MemoryTransport()
        return
    from streamctl.transport.local import LocalTransport

    t = LocalTransport("local://", datadir=tmp_path / "broker")
    yield t
    t.close()


def fill(table, transport, batches=5):
    """A few batches over every partition: increments, overwrites and deletions."""
    producer = transport.producer()
    for b in range(batches):
        for p in range(table.partitions):
            with in_event(p, offset=b):
                for i in range(20):
                    table[f"p{p}-k{i % 7}"] += i
                table[f"p{p}-last"] = b
                if b % 2:
                    table.pop(f"p{p}-k3", None)
        run_batch(table, producer)
    producer.close()


def contents(table):
    """Each partition's store, as bytes."""
    return {p: dict(table._state.store(p).items()) for p in range(table.partitions)}


def new_table(tmp_path, cls=Table, store=None, **kw):
    app = App("app", tmp_path, table_store=store, topic_partitions=3)
    kw.setdefault("name", "t")
    if cls is Table:
        kw.setdefault("default", int)
    return cls(app, **kw)


@pytest.fixture
def filled(tmp_path, transport):
    table = new_table(tmp_path)
    table.recover(transport)
    fill(table, transport)
    expected = (table.copy(), contents(table))
    table.close()
    return expected


def test_deleted_store_files_are_rebuilt(tmp_path, transport, filled):
    shutil.rmtree(tmp_path / "stores")
    table = new_table(tmp_path)
    read = table.recover(transport)
    assert sum(read.values()) > 0
    assert (table.copy(), contents(table)) == filled
    table.close()


def test_intact_stores_replay_nothing(tmp_path, transport, filled):
    table = new_table(tmp_path)
    assert table.recover(transport) == {0: 0, 1: 0, 2: 0}
    assert table.copy() == filled[0]
    table.close()


def test_corrupt_store_is_rebuilt_with_a_warning(tmp_path, transport, filled, caplog):
    path = new_table(tmp_path).store_path(1)
    path.write_bytes(b"\x00garbage" * 512)
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    table = new_table(tmp_path)
    with caplog.at_level(logging.WARNING, logger="streamctl.tables"):
        read = table.recover(transport)
    assert "partition 1" in caplog.text and "rebuilding" in caplog.text
    assert read[0] == read[2] == 0 and read[1] > 0
    assert (table.copy(), contents(table)) == filled
    table.close()


def test_store_ahead_of_changelog_is_refused_and_kept(tmp_path, transport, filled):
    path = new_table(tmp_path).store_path(2)
    store = SqliteStore("sqlite://", path)
    store.apply({b'"phantom"': b"1"}, 10_000)
    store.close()
    table = new_table(tmp_path)
    with pytest.raises(StoreAheadOfLog) as caught:
        table.recover(transport)
    table.close()
    message = str(caught.value)
    assert "table t partition 2" in message and "offset 10000" in message
    assert "changelog ends before it (next offset 40)" in message and "\n" not in message
    store = SqliteStore("sqlite://", path)  # untouched: the user decides which side to keep
    kept = {**filled[1][2], b'"phantom"': b"1"}
    assert (store.persisted_offset(), dict(store.items())) == (10_000, kept)
    store.close()


def test_crash_between_flush_and_store_commit(tmp_path, transport, filled):
    table = new_table(tmp_path)
    table.recover(transport)
    producer = transport.producer()
    with in_event(0):
        table["p0-k1"] = -1
        table["new"] = 1
    table.prepare_commit(producer)
    producer.flush()  # the changelog has the batch; the store never got it
    table.discard_batch()
    table.close()
    table = new_table(tmp_path)
    assert table.recover(transport) == {0: 2, 1: 0, 2: 0}
    with in_event(0):
        assert table["p0-k1"] == -1 and table["new"] == 1
    table.close()


def test_memory_store_replays_everything(tmp_path, transport, filled):
    table = new_table(tmp_path, store="memory://")
    read = table.recover(transport)
    assert all(n > 0 for n in read.values())
    assert (table.copy(), contents(table)) == filled
    table.close()


def test_progress_callback(tmp_path, transport, filled):
    calls = []
    table = new_table(tmp_path, store="memory://")
    table.recover(transport, progress=lambda t, p, done, total: calls.append((t, p, done, total)))
    assert {c[1] for c in calls} == {0, 1, 2}
    for p in range(3):
        last = [c for c in calls if c[1] == p][-1]
        assert last[0] is table and last[2] == last[3] > 0
    table.close()


def test_recover_a_subset_of_partitions(tmp_path, transport, filled):
    shutil.rmtree(tmp_path / "stores")
    table = new_table(tmp_path)
    assert set(table.recover(transport, {1})) == {1}
    assert set(table._state.stores) == {1}
    assert set(table) == {k for k in filled[0] if k.startswith("p1-")}
    table.close()


def test_set_table_rebuilds_sets_exactly(tmp_path, transport):
    sets = new_table(tmp_path, SetTable, name="s")
    sets.recover(transport)
    producer = transport.producer()
    for b in range(4):
        for p in range(3):
            with in_event(p):
                for i in range(10):
                    sets.add(f"k{p}", (b * 10 + i) % 13)
                sets.discard(f"k{p}", b)
                sets.add(f"gone{p}", b)
                sets.discard(f"gone{p}", b)
        run_batch(sets, producer)
    expected = sets.copy()
    sets.close()
    shutil.rmtree(tmp_path / "stores")
    sets = new_table(tmp_path, SetTable, name="s")
    sets.recover(transport)
    assert sets.copy() == expected and "gone0" not in sets
    sets.close()


class TestGlobalTable:
    def test_read_only(self, tmp_path):
        g = new_table(tmp_path, GlobalTable, name="g")
        with pytest.raises(NotImplementedError):
            g["k"] = 1
        with pytest.raises(NotImplementedError):
            del g["k"]
        for op in (lambda: g.update(k=1), lambda: g.setdefault("k", 1), g.clear):
            with pytest.raises(NotImplementedError):
                op()

    def test_recovers_every_partition_and_follows(self, tmp_path, transport, filled):
        writer = new_table(tmp_path / "w", name="t")  # another app's table, same changelog
        g = new_table(tmp_path / "g", GlobalTable, name="g", changelog_topic=writer.changelog_topic)
        g.recover(transport, {0})  # a global table ignores the assignment
        assert g.copy() == filled[0]
        consumer = transport.consumer(None)
        g.follow(consumer)
        writer.recover(transport)
        producer = transport.producer()
        with in_event(2):
            writer["p2-new"] = 42
            del writer["p2-last"]
        run_batch(writer, producer)
        applied = 0
        for _ in range(50):
            applied += g.apply_changelog(consumer.poll(timeout=0.1))
            if applied >= 2:
                break
        assert g["p2-new"] == 42 and "p2-last" not in g
        assert g.apply_changelog(consumer.poll()) == 0
        # records already applied are skipped if they come again
        consumer.seek(TopicPartition(writer.changelog_topic.name, 2), 0)
        assert g.apply_changelog(consumer.poll(timeout=0.1)) == 0
        assert g["p2-new"] == 42
        consumer.close()
        for t in (writer, g):
            t.close()
