"""The cycle collector runs about once per batch while a worker runs, as it was after (#14)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from streamctl.app import App
from streamctl.worker.collector import PER_RECORD, batch_sized


@pytest.fixture
def thresholds() -> Iterator[tuple[int, int, int]]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield gc.get_threshold()
    gc.set_threshold(*before)


def test_a_running_worker_sizes_the_first_threshold_to_its_batches(
    tmp_path: Path, thresholds: tuple[int, int, int]
) -> None:
    app = App("gc-sized", datadir=tmp_path, max_poll_records=300)
    topic = app.topic("gc-events", partitions=2)
    seen: list[tuple[int, int, int]] = []

    @app.agent(topic)
    async def note(stream):  # type: ignore[no-untyped-def]
        async for _value in stream:
            seen.append(gc.get_threshold())

    app.ensure_topics()
    for i in range(50):
        app.producer.send("gc-events", None, b"%d" % i)
    app.producer.flush()
    worker = app.worker(until_idle=True, install_signal_handlers=False)
    assert worker.run() == 0
    assert len(seen) == 50
    assert set(seen) == {(PER_RECORD * 300, 10, 10)}
    assert gc.get_threshold() == thresholds


def test_nested_blocks_restore_once_the_last_ends_and_never_lower_a_threshold(
    thresholds: tuple[int, int, int],
) -> None:
    with batch_sized(100):
        assert gc.get_threshold()[0] == PER_RECORD * 100
        with batch_sized(10):  # smaller than what is set: left as it is
            assert gc.get_threshold()[0] == PER_RECORD * 100
        assert gc.get_threshold()[0] == PER_RECORD * 100
    assert gc.get_threshold() == thresholds
    gc.set_threshold(0)  # collection off: it stays off
    with batch_sized(100):
        assert gc.get_threshold()[0] == 0
    assert gc.get_threshold()[0] == 0
