"""The count/sum fast path (``Table._incrementer``): numbers kept decoded in the write
buffer until the batch is sent, read back, coalesced, rolled back and refused like any
other write."""

from __future__ import annotations

import pytest
from tables_support import App, in_event, run_batch

from streamctl.exceptions import ConfigurationError
from streamctl.tables import Table
from streamctl.tables.changelog import rollback_event, savepoints

TOPIC = "app-t-changelog"


@pytest.fixture
def table(tmp_path, transport):
    app = App("app", tmp_path, topic_partitions=4, transport=transport)
    return Table(app, name="t", default=float)


def changelog(transport):
    return [
        (m.partition, m.key, m.value)
        for tp, log in sorted(transport.logs.items())
        for m in log
        if tp.topic == TOPIC
    ]


def test_increments_are_read_back_in_the_batch_and_sent_once_as_json(table, transport, producer):
    inc = table._incrementer(0.0)
    with in_event(2):
        for amount in (1.5, 2.25, 0.25):
            inc("k", amount)
        assert table["k"] == 4.0  # the dict API sees the kept number
        assert dict(table.items()) == {"k": 4.0}
        inc("k", 1)
        table["k"] += 1  # the slow path on top of the fast one
    run_batch(table, producer)
    assert changelog(transport) == [(2, b'"k"', b"6.0")]
    assert table._state.store(2).get(b'"k"') == b"6.0"
    with in_event(2):
        inc("k", 0.5)  # from the store, in the next batch
    run_batch(table, producer)
    assert changelog(transport)[-1] == (2, b'"k"', b"6.5")
    assert table["k"] == 6.5


def test_the_start_is_the_first_value_and_int_stays_int(tmp_path, transport, producer):
    app = App("app", tmp_path, topic_partitions=4, transport=transport)
    counts = Table(app, name="t", default=int)
    inc = counts._incrementer(10)
    with in_event(0):
        inc("a", 1)
        inc(7, 1)  # an int key
    run_batch(counts, producer)
    assert sorted(changelog(transport)) == [(0, b'"a"', b"11"), (0, b"7", b"11")]
    assert counts["a"] == 11 and counts[7] == 11


def test_a_failed_event_rolls_back_only_its_increments(table, producer):
    inc = table._incrementer(0.0)
    savepoints(True)
    try:
        with in_event(1, offset=0):
            inc("k", 1.0)
        with in_event(1, offset=1) as failed:
            inc("k", 10.0)
            inc("other", 5.0)
        assert rollback_event(failed) == 2
    finally:
        savepoints(False)
    with in_event(1):
        assert table["k"] == 1.0
        assert "other" not in table


def test_a_result_that_does_not_encode_raises_and_writes_nothing(table):
    inc = table._incrementer(0.0)
    with in_event(0):
        inc("k", 1.0)
        with pytest.raises(ValueError):
            inc("k", float("inf"))
        assert table["k"] == 1.0


def test_an_event_of_a_partition_the_table_lacks_is_refused(table):
    inc = table._incrementer(0.0)
    with in_event(9), pytest.raises(ConfigurationError, match="co-partitioning"):
        inc("k", 1.0)


def test_outside_a_stream_it_writes_where_the_key_lives(table, transport, producer):
    inc = table._incrementer(0.0)
    inc("k", 2.0)
    inc("k", 3.0)
    run_batch(table, producer)
    ((_partition, key, value),) = changelog(transport)
    assert (key, value) == (b'"k"', b"5.0")
    assert table["k"] == 5.0
