"""The worker's parts on their own: the runtime context, on_recovery, the retry loop,
the table manager's bookkeeping, a recovery that waits for the broker, and
Stream.in_flight()."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from streamctl.app import App
from streamctl.events import Event
from streamctl.streams import Stream
from streamctl.tables.manager import TableManager
from streamctl.transport.base import Message
from streamctl.transport.exceptions import BrokerUnavailable
from streamctl.worker.retry import until_broker_answers


def test_the_context_carries_the_app_and_opens_connections_on_first_use(tmp_path: Path) -> None:
    app = App("ctx", datadir=tmp_path)
    topic = app.topic("in")
    assert topic.context is app.context
    assert topic.app is app
    assert app.topics is app.context.topics and app.tables is app.context.tables
    assert app.context.producer_if_open() is None  # asking does not open one
    producer = app.producer
    assert app.context.producer_if_open() is producer is app.context.producer
    app.worker_running = True
    assert app.context.worker_running
    app.close()
    assert app.context.producer_if_open() is None


def test_on_recovery_is_told_each_partition_replayed(tmp_path: Path) -> None:
    app = App("rec", datadir=tmp_path, topic_partitions=2)
    table = app.Table("counts", default=int)
    app.ensure_topics()
    # records in the changelog the (empty, never opened) stores do not have yet
    for p in range(2):
        app.producer.send(table.changelog_spec().name, f"k{p}".encode(), b"1", partition=p)
    app.producer.flush()

    @app.agent(app.topic("in", partitions=2))
    async def noop(stream):  # type: ignore[no-untyped-def]
        async for _ in stream:
            pass

    calls: list[tuple[str, int, int, int]] = []
    worker = app.worker(
        until_idle=True,
        install_signal_handlers=False,
        on_recovery=lambda t, p, done, total: calls.append((t.name, p, done, total)),
    )
    assert worker.run() == 0
    assert ("counts", 0, 1, 1) in calls and ("counts", 1, 1, 1) in calls


def test_the_retry_loop_gives_up_naming_the_setting(caplog: pytest.LogCaptureFixture) -> None:
    def down() -> None:
        raise BrokerUnavailable("no broker")

    caplog.set_level(logging.WARNING, "streamctl.worker")
    with pytest.raises(
        BrokerUnavailable, match=r"gave up after 0\.[2-9]s \(broker_start_timeout: 0\.2s\)"
    ):
        asyncio.run(
            until_broker_answers(down, timeout=0.2, setting="broker_start_timeout", max_delay=1)
        )
    assert "retrying in" in caplog.text


def test_the_retry_loop_waits_for_the_broker_and_carries_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    attempts: list[int] = []

    def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 2:
            raise BrokerUnavailable("still down")
        return "flushed"

    caplog.set_level(logging.INFO, "streamctl.worker")
    result = asyncio.run(
        until_broker_answers(
            flaky,
            timeout=5,
            setting="broker_wait_timeout",
            max_delay=1,
            failed=BrokerUnavailable("went away"),
        )
    )
    assert result == "flushed" and len(attempts) == 2
    text = caplog.text
    assert "waiting for the broker" in text and "still waiting" in text
    assert "the broker is back" in text


def test_a_stopping_worker_does_not_wait_for_the_broker_to_start() -> None:
    def down() -> None:
        raise BrokerUnavailable("no broker")

    with pytest.raises(BrokerUnavailable, match="gave up"):
        asyncio.run(
            until_broker_answers(
                down, timeout=60, setting="broker_start_timeout", max_delay=1, stopping=lambda: True
            )
        )


class FakeTable:
    def __init__(self, is_global: bool = False, fail: int = 0) -> None:
        self.is_global = is_global
        self.recovered: list[set[int] | None] = []
        self.released: list[set[int]] = []
        #: how many recoveries meet an absent broker before one succeeds
        self.fail = fail

    def recover(self, transport: Any, partitions: Any, *, progress: Any = None) -> dict[int, int]:
        if self.fail:
            self.fail -= 1
            raise BrokerUnavailable("create topics: Kafka is not ready")
        self.recovered.append(None if partitions is None else set(partitions))
        return {}

    def release(self, partitions: Any) -> None:
        self.released.append(set(partitions))


def test_the_table_manager_recovers_new_partitions_once_and_releases_gone_ones() -> None:
    table = FakeTable()
    manager = TableManager([table])  # type: ignore[list-item]
    manager.start(transport=object(), sources={})  # type: ignore[arg-type]
    assert manager.assign({0, 1}) == {0, 1}
    assert manager.assign({1}) == set()  # already here: not rebuilt
    assert manager.revoke({1}) == {0}
    assert manager.assign({0, 1}) == {0}
    assert table.recovered == [{0, 1}, {0}]
    assert table.released == [{0}]


def test_an_assignment_whose_recovery_failed_is_recovered_when_made_again() -> None:
    first, second = FakeTable(), FakeTable(fail=1)
    manager = TableManager([first, second])  # type: ignore[list-item]
    manager.start(transport=object(), sources={})  # type: ignore[arg-type]
    with pytest.raises(BrokerUnavailable):
        manager.assign({0, 1})
    # the broker is back: the same partitions again are rebuilt, not taken as held
    assert manager.assign({0, 1}) == {0, 1}
    assert first.recovered == [{0, 1}, {0, 1}] and second.recovered == [{0, 1}]
    assert manager.assign({0, 1}) == set()


@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once"])
def test_a_recovery_on_assignment_waits_for_a_broker_not_ready_yet(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    guarantee: str,
) -> None:
    """Right after an outage the group may be back before the client the table recovery
    uses (kafka-python's reconnect backoff): the worker waits, as a commit does, and
    carries on; it used to exit 1 with the recovery's BrokerUnavailable."""
    app = App(
        "recwait",
        datadir=tmp_path,
        processing_guarantee=guarantee,
        commit_interval=0,
        broker_wait_timeout=30,
    )
    src = app.topic("in", partitions=2, key_type=str)
    counts = app.Table("counts", default=int, partitions=2)

    @app.agent(src)
    async def count(stream):  # type: ignore[no-untyped-def]
        async for key, _ in stream.items():
            counts[key] += 1

    app.ensure_topics()
    for i in range(40):
        src.send_soon(key=f"k{i % 4}", value=i)
    app.producer.flush()
    changelog = counts.changelog_spec().name
    real = app.transport.create_topics
    refused: list[str] = []

    def not_ready_yet(specs: Any) -> None:
        names = [s.name for s in specs]
        if names == [changelog] and len(refused) < 2:  # the recovery's own call only
            refused.append(changelog)
            raise BrokerUnavailable("create topics: Kafka is not ready (NodeNotReadyError)")
        real(specs)

    monkeypatch.setattr(app.transport, "create_topics", not_ready_yet)
    caplog.set_level(logging.INFO, "streamctl.worker")
    worker = app.worker(until_idle=True, install_signal_handlers=False)
    assert worker.run() == 0
    assert len(refused) == 2
    assert "waiting for the broker" in caplog.text and "the broker is back" in caplog.text
    assert dict(counts.items()) == {f"k{k}": 10 for k in range(4)}


def test_in_flight_is_the_event_the_agent_took_last(tmp_path: Path) -> None:
    app = App("fl", datadir=tmp_path)
    stream = Stream(app.topic("in"))
    events = [Event(None, i, Message("in", 0, i, None, None, 0)) for i in range(3)]

    async def take_two() -> None:
        stream.feed(events)
        await stream.__anext__()
        await stream.__anext__()

    assert stream.in_flight() is None
    asyncio.run(take_two())
    assert stream.in_flight() is events[1]
