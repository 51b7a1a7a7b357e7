"""Transactions on the embedded broker: records and group offsets commit together or never."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import read_topic

from streamctl.app import App
from streamctl.exceptions import ConfigurationError
from streamctl.transport.base import TopicPartition, TopicSpec
from streamctl.transport.exceptions import TransportError
from streamctl.transport.local import LocalTransport

IN, OUT = TopicPartition("in", 0), TopicPartition("out", 0)


def setup(tmp_path: Path) -> LocalTransport:
    t = LocalTransport(datadir=tmp_path)
    t.create_topics([TopicSpec("in"), TopicSpec("out")])
    p = t.producer()
    for i in range(5):
        p.send("in", None, b"%d" % i)
    p.flush()
    return t


def committed(tmp_path: Path) -> int | None:
    other = LocalTransport(datadir=tmp_path)
    try:
        return other.consumer("g").committed(IN)
    finally:
        other.close()


def test_records_and_offsets_are_invisible_until_commit_then_visible_together(
    tmp_path: Path,
) -> None:
    t = setup(tmp_path)
    consumer = t.consumer("g")
    producer = t.producer(transactional_id="tx")
    producer.begin_transaction()
    producer.send("out", b"k", b"v1")
    assert producer.flush() == [("out", 0, 0)]  # offsets are given inside the transaction
    producer.send("out", b"k", b"v2")
    assert read_topic(tmp_path, "out") == []  # another reader sees nothing yet
    assert committed(tmp_path) is None
    producer.commit_transaction({IN: 3}, consumer)
    assert [m.value for m in read_topic(tmp_path, "out")] == [b"v1", b"v2"]
    assert committed(tmp_path) == 3
    t.close()


def test_an_aborted_transaction_leaves_neither_records_nor_offsets(tmp_path: Path) -> None:
    t = setup(tmp_path)
    consumer = t.consumer("g")
    producer = t.producer(transactional_id="tx")
    producer.begin_transaction()
    producer.send("out", b"k", b"lost")
    producer.flush()
    producer.send("out", b"k", b"lost too")
    producer.abort_transaction()
    assert read_topic(tmp_path, "out") == [] and committed(tmp_path) is None
    # the next transaction reuses the offsets the aborted one never took
    producer.begin_transaction()
    producer.send("out", b"k", b"kept")
    assert producer.flush() == [("out", 0, 0)]
    producer.commit_transaction({IN: 5}, consumer)
    assert [m.value for m in read_topic(tmp_path, "out")] == [b"kept"]
    assert committed(tmp_path) == 5
    t.close()


def test_transactions_need_begin_and_a_consumer_of_the_same_broker(tmp_path: Path) -> None:
    t = setup(tmp_path)
    producer = t.producer(transactional_id="tx")
    with pytest.raises(TransportError, match="without begin_transaction"):
        producer.commit_transaction({}, t.consumer("g"))
    with pytest.raises(TransportError, match="no transactions"):
        t.producer().begin_transaction()
    elsewhere = LocalTransport(datadir=tmp_path / "other")
    producer.begin_transaction()
    with pytest.raises(TransportError, match="not one of this embedded broker"):
        producer.commit_transaction({IN: 1}, elsewhere.consumer("g"))
    producer.abort_transaction()
    with pytest.raises(TransportError, match="no group metadata"):
        t.consumer(None).group_metadata()
    elsewhere.close()
    t.close()


def test_exactly_once_is_the_default_on_the_embedded_broker_only(tmp_path: Path) -> None:
    assert App("a", datadir=tmp_path).conf.processing_guarantee == "exactly_once"
    assert App("a", broker="local://", datadir=tmp_path).conf.exactly_once
    assert not App("a", broker="memory://", datadir=tmp_path).conf.exactly_once
    assert not App("a", broker="kafka://h:9092", datadir=tmp_path).conf.exactly_once
    chosen = App("a", datadir=tmp_path, processing_guarantee="at_least_once")
    assert chosen.conf.processing_guarantee == "at_least_once"
    assert not App("a", datadir=tmp_path).conf.reads_last_stable_offset
    assert App(
        "a", broker="kafka://h:9092", processing_guarantee="exactly_once"
    ).conf.reads_last_stable_offset
    with pytest.raises(ConfigurationError, match="processing_guarantee must be one of"):
        App("a", datadir=tmp_path, processing_guarantee="twice")
