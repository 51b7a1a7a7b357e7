"""The Kafka scenarios of bench/bench.py: each transport's raw client loop, consume, pipelines.

Letters: ``k*`` run on kafka-python (``kafka://``), ``r*`` on librdkafka
(``kafka+confluent://``, confluent-kafka); ``*a`` is the raw client loop (the
limit), ``*t`` streamctl's transport consumer alone, ``*b`` the stateless agent and
``*c`` the stateful steps of the embedded scenarios b and c. Every scenario reads
the same input topic, produced once per bench run (not timed); each run uses its
own consumer group and app id (so its own changelog topic), so ``--repeat`` runs
start from the first record too. streamctl runs use the defaults users get: no
tuned broker settings, record CRCs checked.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import kafka_raw

#: set by bench.py's main(): ``bootstrap`` servers and the input ``topic``
KAFKA: dict[str, str] = {}
#: the Kafka transports: scenario letter prefix -> (URL scheme, client name)
TRANSPORTS = {"k": ("kafka", "kafka-python"), "r": ("kafka+confluent", "confluent-kafka")}
#: each scenario's reference: the raw client loop of the same transport
REFERENCE = {f"{p}{s}": f"{p}a" for p in TRANSPORTS for s in "atbc"}

Scenario = tuple[str, Callable[[Path, int], float]]


def _run_id() -> str:
    return uuid.uuid4().hex[:8]


def scenarios(
    stateless: Callable[..., float], stateful: Callable[..., float]
) -> dict[str, Scenario]:
    """The Kafka scenarios, built on bench.py's ``stateless`` and ``stateful`` runs."""
    raw = {"k": kafka_raw.consume_raw, "r": kafka_raw.consume_confluent_raw}
    out: dict[str, Scenario] = {}
    for prefix, (scheme, client) in TRANSPORTS.items():
        name = f"Kafka, {client}:"

        def raw_loop(_: Path, events: int, loop: Callable[..., float] = raw[prefix]) -> float:
            return events / loop(KAFKA["bootstrap"], KAFKA["topic"], events)

        def consume(_: Path, events: int, scheme: str = scheme) -> float:
            seconds = kafka_raw.consume_transport(
                KAFKA["bootstrap"], KAFKA["topic"], events, scheme
            )
            return events / seconds

        def pipeline_b(datadir: Path, events: int, scheme: str = scheme) -> float:
            run = _run_id()
            return stateless(
                datadir,
                events,
                broker=f"{scheme}://{KAFKA['bootstrap']}",
                topic=KAFKA["topic"],
                out=f"{KAFKA['topic']}-out",
                app_id=f"bench-stateless-{run}",
            )

        def pipeline_c(datadir: Path, events: int, scheme: str = scheme) -> float:
            return stateful(
                datadir,
                events,
                broker=f"{scheme}://{KAFKA['bootstrap']}",
                topic=KAFKA["topic"],
                app_id=f"bench-stateful-{_run_id()}",
            )

        out[f"{prefix}a"] = (f"{name} raw client loop + JSON (the limit)", raw_loop)
        out[f"{prefix}t"] = (f"{name} streamctl consumer + JSON decode", consume)
        out[f"{prefix}b"] = (f"{name} stateless agent, as b", pipeline_b)
        out[f"{prefix}c"] = (f"{name} stateful steps, as c", pipeline_c)
    return out
