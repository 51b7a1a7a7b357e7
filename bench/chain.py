"""(x) An expression-heavy YAML step chain and (xp) the same logic as a Python plugin agent.

Both read the bench's events on the embedded broker and do, per event: keep the ``ok``
orders of at least 10, compute a net amount and a tier, regroup by the tier through a
repartition topic, and sum the net amounts per tier into a table. Scenario x writes it
as steps (filter, map with two computed fields, group_by, sum); xp as the ``async def``
agent a Python user writes (``use: chain_plugin:net_per_tier``). Each run checks the
table against the sums computed here. The per-event cost of the chain against the
plugin's is ``xp / x`` in events/s (#13 asks for at most 1.5).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

PIPELINE = """
app: bench-chain-%(name)s
topics:
  events: {partitions: %(partitions)d, key_type: str}
tables:
  net_per_tier: {default: float}
settings: {processing_guarantee: at_least_once}
agents:
  net:
    from: events
%(body)s"""

STEPS = """    steps:
      - filter: "ok and amount >= 10 and kind == 'order'"
      - map:
          net: "round(amount * 0.8, 2)"
          tier: "'gold' if amount >= 75 else 'silver' if amount >= 40 else 'bronze'"
      - group_by: tier
      - sum: {table: net_per_tier, value: net}
"""

PLUGIN = """    use: chain_plugin:net_per_tier
"""


def expected(events: int, make_event: Callable[[int], dict[str, Any]]) -> dict[str, float]:
    """The net amount per tier the chain must end with."""
    sums: dict[str, float] = {}
    for i in range(events):
        e = make_event(i)
        if e["ok"] and e["amount"] >= 10 and e["kind"] == "order":
            a = e["amount"]
            tier = "gold" if a >= 75 else "silver" if a >= 40 else "bronze"
            sums[tier] = sums.get(tier, 0.0) + round(a * 0.8, 2)
    return sums


def run(
    datadir: Path,
    events: int,
    *,
    plugin: bool,
    partitions: int,
    make_event: Callable[[int], dict[str, Any]],
) -> float:
    """Events/s of the chain (``plugin``: of the Python agent); checks the table."""
    from streamctl.pipeline import load_pipeline

    name = "plugin" if plugin else "steps"
    path = datadir / f"chain-{name}.yaml"
    path.write_text(
        PIPELINE % {"name": name, "partitions": partitions, "body": PLUGIN if plugin else STEPS}
    )
    (datadir / "chain_plugin.py").write_text(
        (Path(__file__).parent / "chain_plugin.py").read_text()
    )
    app = load_pipeline(path, datadir=datadir).app
    start = time.perf_counter()
    worker = app.worker(until_idle=True, install_signal_handlers=False)
    worker.run()
    elapsed = time.perf_counter() - start
    if worker.stats.processed < events:
        raise SystemExit(f"chain ({name}): processed only {worker.stats.processed} of {events}")
    check = load_pipeline(path, datadir=datadir).app
    table = check.tables["net_per_tier"]
    table.recover(check.transport)
    got, want = dict(table.items()), expected(events, make_event)
    if got.keys() != want.keys() or any(abs(got[t] - want[t]) > 1e-6 * want[t] for t in want):
        raise SystemExit(f"chain ({name}): the table holds {got}, not {want}")
    check.close()
    return worker.stats.processed / elapsed
