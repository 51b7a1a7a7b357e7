"""Batches: coalescing, tombstones, co-partitioning, and the prepare/commit protocol."""

from __future__ import annotations

import pytest
from tables_support import App, in_event, run_batch

from streamctl.exceptions import ConfigurationError
from streamctl.tables import GlobalTable, Table
from streamctl.tables.exceptions import TableError
from streamctl.transport.base import RecordMetadata, TopicPartition
from streamctl.transport.partitioner import partition_for

TOPIC = "app-t-changelog"


@pytest.fixture
def table(tmp_path, transport):
    app = App("app", tmp_path, topic_partitions=4, transport=transport)
    return Table(app, name="t", default=int)


def records(transport, partition=None):
    return [
        (m.partition, m.key, m.value)
        for tp, log in sorted(transport.logs.items())
        for m in log
        if tp.topic == TOPIC and (partition is None or tp.partition == partition)
    ]


def test_many_writes_to_one_key_make_one_record(table, transport, producer):
    with in_event(1):
        for _ in range(100):
            table["k"] += 1
    assert table.prepare_commit(producer) == 1
    table.commit(producer.flush())
    assert records(transport) == [(1, b'"k"', b"100")]
    assert table._state.store(1).persisted_offset() == 0


def test_coalescing_keeps_only_the_last_value_per_key(table, transport, producer):
    with in_event(0):
        table["a"] = 1
        table["b"] = 1
        table["a"] = 2
    run_batch(table, producer)
    assert records(transport) == [(0, b'"a"', b"2"), (0, b'"b"', b"1")]


def test_delete_is_a_tombstone(table, transport, producer):
    with in_event(2):
        table["a"] = 1
    run_batch(table, producer)
    with in_event(2):
        del table["a"]
    run_batch(table, producer)
    assert records(transport) == [(2, b'"a"', b"1"), (2, b'"a"', None)]
    assert table._state.store(2).get(b'"a"') is None
    assert table._state.store(2).persisted_offset() == 1


def test_write_then_delete_in_one_batch_is_one_tombstone(table, transport, producer):
    with in_event(0):
        table["a"] = 1
        del table["a"]
    run_batch(table, producer)
    assert records(transport) == [(0, b'"a"', None)]


def test_write_goes_to_the_source_event_partition(table, transport, producer):
    for p in range(4):
        with in_event(p):
            table[f"k{p}"] = p
    run_batch(table, producer)
    assert [(p, v) for p, _, v in records(transport)] == [(p, str(p).encode()) for p in range(4)]


def test_write_outside_a_stream_goes_by_key_hash(table, transport, producer):
    # the hash of the key's bytes as a topic sends them (UTF-8 text), not of its JSON (#9)
    keys = [f"user-{i}" for i in range(20)]
    for k in keys:
        table[k] = 1
    run_batch(table, producer)
    got = {key: p for p, key, _ in records(transport)}
    assert got == {f'"{k}"'.encode(): partition_for(k.encode(), 4) for k in keys}
    assert len(set(got.values())) > 1


def test_use_partitioner_ignores_the_event(tmp_path, transport, producer):
    app = App("app", tmp_path, topic_partitions=4, transport=transport)
    table = Table(app, name="t", use_partitioner=True)
    with in_event(3):
        table["x"] = 1
    run_batch(table, producer)
    assert records(transport)[0][0] == partition_for(b"x", 4)  # the topic's key bytes (#9)


def test_outside_a_stream_a_write_finds_the_partition_holding_the_key(table, transport, producer):
    home = partition_for(b"k", 4)
    other = (home + 1) % 4
    with in_event(other):
        table["k"] = 1
    run_batch(table, producer)
    table["k"] = 2  # e.g. `streamctl table set`
    run_batch(table, producer)
    assert {p for p, _, _ in records(transport)} == {other}
    del table["k"]
    table["k"] = 3  # a key no partition holds goes by key hash
    run_batch(table, producer)
    assert (other, b'"k"', None) in records(transport)
    assert records(transport, home) == [(home, b'"k"', b"3")]


def test_key_partition_is_kafkas_default_partitioner():
    from kafka.partitioner.default import murmur2

    for key in [b"", b"a", b"user-42", bytes(range(50))]:
        for n in (1, 3, 12):
            assert partition_for(key, n) == (murmur2(key) & 0x7FFFFFFF) % n


def test_reads_in_an_event_see_only_its_partition(table, producer):
    with in_event(0):
        table["k"] = 5
    run_batch(table, producer)
    with in_event(1):
        assert "k" not in table
        assert table["k"] == 0
    with in_event(0):
        assert table["k"] == 5
    assert table["k"] == 5  # outside a stream every local partition is searched


def test_reads_see_buffered_and_inflight_writes(table, producer):
    with in_event(0):
        table["k"] = 1
        assert table["k"] == 1
        table.prepare_commit(producer)
        assert table["k"] == 1  # sent, not yet in the store
        table["k"] = 2
        assert table["k"] == 2
    table.commit(producer.flush())
    assert table["k"] == 2
    assert table._state.store(0).get(b'"k"') == b"1"
    run_batch(table, producer)
    assert table._state.store(0).get(b'"k"') == b"2"


def test_commit_records_the_highest_offset_per_partition(table, producer):
    for round_ in range(3):
        for p in (0, 2):
            with in_event(p):
                table[f"k{round_}"] = round_
                table[f"j{round_}"] = round_
        run_batch(table, producer)
    assert table._state.store(0).persisted_offset() == 5
    assert table._state.store(2).persisted_offset() == 5


def test_commit_ignores_other_topics_metadata(table, producer):
    with in_event(0):
        table["k"] = 1
    table.prepare_commit(producer)
    metadata = [RecordMetadata("sink", 0, 99), *producer.flush()]
    table.commit(metadata)
    assert table._state.store(0).persisted_offset() == 0


def test_commit_without_metadata_for_a_partition_fails(table, producer):
    with in_event(1):
        table["k"] = 1
    table.prepare_commit(producer)
    with pytest.raises(TableError, match=r"no record metadata for partitions \[1\]"):
        table.commit([])


def test_prepare_commit_twice_fails(table, producer):
    with in_event(1):
        table["k"] = 1
    table.prepare_commit(producer)
    with pytest.raises(TableError, match="before commit"):
        table.prepare_commit(producer)


def test_empty_batch(table, producer):
    assert table.prepare_commit(producer) == 0
    table.commit(producer.flush())


def test_discard_batch(table, producer):
    with in_event(0):
        table["k"] = 1
    table.discard_batch()
    assert "k" not in table
    assert table.prepare_commit(producer) == 0


def test_check_copartitioning(table):
    table.check_copartitioning(4)
    with pytest.raises(ConfigurationError, match=r"'t' has 4 partitions but topic 'orders' has 3"):
        table.check_copartitioning(3, source="orders")


def test_copartitioning_not_required_for_global_tables(tmp_path):
    GlobalTable(App("app", tmp_path, topic_partitions=2), name="g").check_copartitioning(5)


def test_event_from_a_partition_the_table_lacks(table):
    with in_event(7, topic="orders"), pytest.raises(ConfigurationError, match=r"orders\[7\]"):
        table["k"] = 1


def test_release(table, producer):
    with in_event(1):
        table["k"] = 1
    with pytest.raises(TableError, match="uncommitted"):
        table.release({1})
    run_batch(table, producer)
    table.release({1})
    assert 1 not in table._state.stores
    assert "k" not in table  # partition 1 is no longer local
    assert table._state.local() == [0, 2, 3]


def test_close_drops_uncommitted_writes_with_a_warning(table, caplog):
    with in_event(0):
        table["k"] = 1
    table.close()
    assert "uncommitted writes" in caplog.text


def test_changelog_spec(table):
    spec = table.changelog_spec()
    assert (spec.name, spec.partitions, spec.compacting) == (TOPIC, 4, True)


def test_follow_seeks_after_the_stores(table, transport, producer):
    with in_event(0):
        table["k"] = 1
    run_batch(table, producer)
    consumer = transport.consumer(None)
    tps = table.follow(consumer)
    assert tps == {TopicPartition(TOPIC, p) for p in range(4)}
    assert consumer.position(TopicPartition(TOPIC, 0)) == 1
    assert consumer.position(TopicPartition(TOPIC, 1)) == 0


def test_dirty_and_next_offset(table, producer):
    assert not table.dirty and table.next_offset(0) == 0
    with in_event(0):
        table["k"] = 1
    assert table.dirty
    run_batch(table, producer)
    assert not table.dirty and table.next_offset(0) == 1


def test_app_default_partitions_when_the_topic_has_none(tmp_path):
    class Conf:
        datadir = tmp_path
        topic_partitions = 6

    class NoCountApp(App):
        def topic(self, name, **kw):
            return super().topic(name, **{**kw, "partitions": None})

    app = NoCountApp("app", tmp_path)
    app.conf = Conf()
    app.topic_partitions = None
    assert Table(app, name="t").partitions == 6


def test_send_to_changelog_follows_the_rule_of_writes_outside_a_stream(tmp_path, transport):
    """How `streamctl table set` changes a GlobalTable: straight to its changelog, to the
    partition holding the key, else the key's home; the stores see it on recovery."""
    from streamctl.tables import SetGlobalTable

    app = App("app", tmp_path, topic_partitions=4, transport=transport)
    table = GlobalTable(app, name="t")
    producer = transport.producer()
    home = partition_for(b'"k"', 4)
    other = (home + 1) % 4
    producer.send(TOPIC, b'"k"', b"1", partition=other)
    producer.flush()
    table.recover(transport)
    table.send_to_changelog(producer, "k", 2)
    table.send_to_changelog(producer, "new", 3)
    producer.flush()
    assert (other, b'"k"', b"2") in records(transport)
    assert (partition_for(b'"new"', 4), b'"new"', b"3") in records(transport)
    assert table.get("k") == 1 and not table.dirty  # nothing buffered: the changelog is the input
    table.recover(transport)
    assert dict(table.items()) == {"k": 2, "new": 3}
    table.send_to_changelog(producer, "k", None)
    producer.flush()
    table.recover(transport)
    assert (other, b'"k"', None) in records(transport)
    assert dict(table.items()) == {"new": 3}

    sets = SetGlobalTable(app, name="s")
    sets.send_to_changelog(producer, "k", ["b", "a", "b"])
    producer.flush()
    sets.recover(transport)
    assert sets["k"] == {"a", "b"}
    assert [v for _, k, v in records_of(transport, "app-s-changelog")] == [b'["a","b"]']


def records_of(transport, topic):
    return [
        (m.partition, m.key, m.value)
        for tp, log in sorted(transport.logs.items())
        for m in log
        if tp.topic == topic
    ]
