"""End to end: tables inside main's App and worker, on the embedded broker."""

from __future__ import annotations

import asyncio
import shutil

from streamctl.app import App


def build(tmp_path, store="sqlite://"):
    app = App("e2e", broker="local://", datadir=tmp_path, store=store, topic_partitions=3)
    orders = app.topic("orders")
    counts = app.Table("counts", default=int)
    customers = app.SetTable("customers")

    @app.agent(orders)
    async def count(stream):
        async for event in stream.events():
            counts[event.value["item"]] += 1
            customers.add(event.value["item"], event.value["who"])

    return app, orders, counts, customers


def send(app, orders, n):
    app.ensure_topics()
    for i in range(n):
        asyncio.run(orders.send(key=f"item{i % 5}", value={"item": f"item{i % 5}", "who": i % 3}))


def test_worker_counts_and_rebuilds_from_changelog(tmp_path):
    app, orders, counts, customers = build(tmp_path)
    send(app, orders, 50)
    assert app.run(until_idle=True) == 0
    expected_counts = counts.copy()
    expected_sets = customers.copy()
    app.close()
    assert expected_counts == {f"item{i}": 10 for i in range(5)}
    assert expected_sets["item0"] == {0, 1, 2}

    shutil.rmtree(tmp_path / "stores")  # lose every store file; the changelogs remain
    app, orders, counts, customers = build(tmp_path, store="sqlite://")
    assert app.run(until_idle=True) == 0
    assert counts.copy() == expected_counts
    assert customers.copy() == expected_sets
    app.close()
