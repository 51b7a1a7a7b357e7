"""A transaction that fails mid-run is aborted and its batch processed again, exactly once."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from support import read_topic

from streamctl.app import App
from streamctl.transport.exceptions import TransactionFailed
from streamctl.transport.local import LocalProducer

N = 600


def build(data: Path) -> tuple[App, Any]:
    app = App("restart", datadir=data, max_poll_records=50, commit_interval=0)
    src = app.topic("in", partitions=2, key_type=str)
    out = app.topic("out", partitions=2, key_type=str)
    counts = app.Table("counts", default=int, partitions=2)

    @app.agent(src)
    async def count(stream):  # type: ignore[no-untyped-def]
        async for key, value in stream.items():
            counts[key] += 1
            await out.send(key=key, value={"id": value["id"], "n": counts[key]})

    app.ensure_topics()
    for i in range(N):
        src.send_soon(key=f"k{i % 7}", value={"id": i})
    app.producer.flush()
    return app, counts


@pytest.mark.parametrize("failing_commits", [{3}, {2, 3, 4}])
def test_a_failed_transaction_is_aborted_and_its_batch_processed_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing_commits: set[int]
) -> None:
    calls = 0
    real = LocalProducer.commit_transaction

    def commit_transaction(self: LocalProducer, offsets: Any, consumer: Any = None) -> None:
        nonlocal calls
        calls += 1
        if calls in failing_commits:  # written into the SQLite transaction, then refused
            self.flush()
            raise TransactionFailed("commit transaction: fenced (test)")
        real(self, offsets, consumer)

    monkeypatch.setattr(LocalProducer, "commit_transaction", commit_transaction)
    app, _ = build(tmp_path)
    assert app.conf.exactly_once  # the embedded broker's default
    app.run(until_idle=True)
    assert calls > max(failing_commits)

    outputs = [json.loads(m.value) for m in read_topic(tmp_path, "out")]
    ids = Counter(o["id"] for o in outputs)
    assert sorted(ids) == list(range(N)) and max(ids.values()) == 1
    # the running counts carried by the outputs never skip or repeat a number per key
    per_key: dict[str, list[int]] = {}
    for m, o in zip(read_topic(tmp_path, "out"), outputs, strict=True):
        per_key.setdefault(m.key.decode(), []).append(o["n"])
    assert all(sorted(ns) == list(range(1, len(ns) + 1)) for ns in per_key.values())

    fresh = App("restart", datadir=tmp_path)
    table = fresh.Table("counts", default=int, partitions=2)
    table.recover(fresh.transport)
    assert dict(table.items()) == dict(Counter(f"k{i % 7}" for i in range(N)))
    fresh.close()
