"""Generated records (nulls, wrong types, huge numbers, missing fields, bad bytes) through a
pipeline with steps, a group_by, a plugin agent and a dead-letter topic (#9): the worker
never stops, every record ends in the tables or the dead-letter topic (with a reason)
or is filtered out, and the tables equal a reference computed here from the good ones."""

from __future__ import annotations

import atexit
import json
import math
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamctl.pipeline.loader import load_pipeline
from streamctl.testing import read_table, run_until_idle
from streamctl.transport.base import Message, TopicPartition

PLUGIN = """\
async def agent(stream):
    seen = stream.app.tables["plug_seen"]
    async for v in stream:
        seen[v["user"]] += 1
        if type(v["qty"]) is not int:  # after the write: it must be rolled back
            raise TypeError("qty must be an int")
"""

PIPELINE = """\
app: h
topics:
  events: {partitions: 1, dead_letter: bad}
tables:
  per_user: {default: int}
  amount: {default: float}
  plug_seen: {default: int}
agents:
  steps:
    from: events
    steps:
      - filter: "qty > 0"
      - group_by: user
      - count: per_user
      - add: {table: amount, value: "amount / qty"}
  plugin:
    from: events
    use: onerr_hyp_plug:agent
"""

MISSING: Any = object()


def field(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.just(MISSING), st.none(), values)


RECORD = st.builds(
    lambda user, qty, amount: {
        k: v for k, v in (("user", user), ("qty", qty), ("amount", amount)) if v is not MISSING
    },
    field(st.sampled_from(["ada", "bob", "cy"]) | st.integers(0, 2).map(str)),
    field(st.integers(-1, 3) | st.sampled_from(["1", 2.5, [1]])),
    field(
        st.integers(-5, 5)
        | st.sampled_from([1e308, -1e308, 1.5e308, 0.1, "x"])
        | st.floats(-1e6, 1e6, allow_nan=False)
    ),
)
INPUT = st.one_of(
    RECORD.map(lambda r: ("json", r)),
    st.just(("json", None)),
    st.sampled_from([b"\xff\xfe", b'{"user": ', b"", b"[1, 2"]).map(lambda b: ("raw", b)),
)


def reference(inputs: list[tuple[str, Any]]) -> dict[str, Any]:
    """What each agent must do with each input, computed without streamctl."""
    per_user: dict[str, int] = {}
    amount: dict[str, float] = {}
    plug: dict[str, int] = {}
    parked: dict[str, list[Any]] = {"decode": [], "steps": [], "plugin": []}
    for kind, v in inputs:
        if kind == "raw":
            try:
                json.loads(v)
            except ValueError:
                parked["decode"].append(v)
                continue
            v = json.loads(v)
        # steps: filter "qty > 0", group_by user, count, add amount / qty
        qty = v.get("qty") if isinstance(v, dict) else None
        if not isinstance(qty, (int, float)) or isinstance(qty, bool):
            parked["steps"].append(v)
        elif qty > 0:
            user = v.get("user")
            a = v.get("amount")
            if user is None:
                parked["steps"].append(v)
            elif not isinstance(a, (int, float)) or not math.isfinite(
                amount.get(user, 0.0) + a / qty
            ):
                parked["steps"].append(v)  # its count is rolled back with it
            else:
                per_user[user] = per_user.get(user, 0) + 1
                amount[user] = amount.get(user, 0.0) + a / qty
        # plugin: plug_seen[user] += 1, then fails unless qty is an int
        ok = (
            isinstance(v, dict)
            and isinstance(v.get("user"), str)
            and "qty" in v
            and type(v["qty"]) is int
        )
        if ok:
            plug[v["user"]] = plug.get(v["user"], 0) + 1
        else:
            parked["plugin"].append(v)
    return {"per_user": per_user, "amount": amount, "plug_seen": plug, "parked": parked}


def raw_records(app: Any, topic: str) -> list[Message]:
    transport = app.transport
    parts = transport.list_topics()[topic].partitions
    consumer = transport.consumer(None)
    try:
        tps = [TopicPartition(topic, p) for p in range(parts)]
        consumer.assign(tps)
        ends = consumer.end_offsets(tps)
        out: list[Message] = []
        while any(consumer.position(tp) < end for tp, end in ends.items()):
            out += consumer.poll(max_records=10_000, timeout=0.1)
    finally:
        consumer.close()
    return sorted(out, key=lambda m: (m.partition, m.offset))


HOME = Path(tempfile.mkdtemp(prefix="on-error-hypothesis-"))
atexit.register(shutil.rmtree, HOME, True)
(HOME / "onerr_hyp_plug.py").write_text(PLUGIN)
(HOME / "h.yaml").write_text(PIPELINE)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(INPUT, min_size=1, max_size=25))
def test_generated_records_are_processed_or_parked_and_tables_match_a_reference(
    inputs: list[tuple[str, Any]],
) -> None:
    datadir = tempfile.mkdtemp(dir=HOME)
    app = load_pipeline(HOME / "h.yaml", broker="memory://", datadir=datadir).app
    app.ensure_topics()
    producer = app.producer
    for kind, v in inputs:
        producer.send("events", b"k", v if kind == "raw" else json.dumps(v).encode(), partition=0)
    producer.flush()
    assert run_until_idle(app) == 0  # the worker never stops
    want = reference(inputs)
    for table in ("per_user", "amount", "plug_seen"):
        assert read_table(app, table) == want[table], table
    by_agent: dict[str, list[Any]] = {"decode": [], "steps": [], "plugin": []}
    for m in raw_records(app, "bad"):
        headers = dict(m.headers)
        assert headers["streamctl.error"], headers  # every parked record says why
        # parked as it came, also when it failed after group_by
        assert headers["streamctl.source.topic"] == b"events"
        assert m.key == b"k"
        agent = headers.get("streamctl.agent")
        if agent is None:
            assert headers["streamctl.step"] == b"decode"
            by_agent["decode"].append(m.value)
        else:
            by_agent[agent.decode()].append(None if m.value is None else json.loads(m.value))
    parked = want["parked"]
    assert by_agent["decode"] == parked["decode"]
    # the records each agent parked, in order, are exactly the failing inputs
    assert by_agent["plugin"] == parked["plugin"]
    # (before group_by they are parked as they come, after it once repartitioned)
    assert sorted(map(canonical, by_agent["steps"])) == sorted(map(canonical, parked["steps"]))


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
