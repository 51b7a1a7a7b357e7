"""streamctl's benchmark: events/s of a raw consume loop and of pipelines on the same data.

    python bench/bench.py                 # all scenarios on the embedded broker
    python bench/bench.py --only a,b      # some of them
    python bench/bench.py --events 50000  # a quicker run
    python bench/bench.py --only ka,kc,ra,rc  # on Kafka (--broker, default 127.0.0.1:19092)

Each scenario gets a fresh data dir holding the same generated input: EVENTS JSON
events of about 100 bytes over 1,000 keys in a 4-partition topic. Figures are
events/s of wall time for processing only (producing the input is not timed).
The Kafka scenarios (k*: kafka-python, r*: librdkafka) read one input topic on the
broker, produced once (bench/kafka_scenarios.py); each prints its ratio to the raw
client loop of its own transport. Runs are interleaved (every scenario once, then
again) so that load on the machine shifts all of them alike. ``s`` is seconds, not
events/s. Every run is a process of its own (forked), whose peak RSS is printed (the
highest of its runs; a ``--profile`` run is in this process and prints none).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streamctl.app import App  # noqa: E402
from streamctl.exceptions import StreamctlError  # noqa: E402
from streamctl.models.codecs import get_codec  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
import kafka_scenarios  # noqa: E402
from kafka_scenarios import KAFKA, REFERENCE  # noqa: E402

PARTITIONS = 4
KEYS = 1000


def make_event(i: int) -> dict[str, Any]:
    """About 100 bytes of JSON."""
    return {
        "id": i,
        "customer": f"customer-{i % KEYS:04d}",
        "amount": (i * 7919) % 1000 / 10,
        "kind": "order",
        "ok": i % 5 != 0,
    }


def produce_input(
    datadir: Path, events: int, broker: str = "local://", name: str = "events", out: str = "out"
) -> None:
    app = App("bench-feeder", datadir=datadir, broker=broker)
    topic = app.topic(name, partitions=PARTITIONS, key_type=str)
    app.topic(out, partitions=PARTITIONS)
    app.ensure_topics()
    dumps = json.dumps
    send = app.producer.send
    for i in range(events):
        send(
            name,
            f"customer-{i % KEYS:04d}".encode(),
            dumps(make_event(i), separators=(",", ":")).encode(),
        )
        if i % 50_000 == 49_999:
            app.producer.flush()
    app.producer.flush()
    del topic
    app.close()


def raw_loop(datadir: Path, events: int, broker: str = "local://") -> float:
    """(a) the limit: poll the transport and decode each value with the engine's JSON codec
    (under the cycle collector setting a worker runs with, so ratios compare like with like)."""
    from streamctl.worker.collector import batch_sized

    app = App("bench-raw", datadir=datadir, broker=broker)
    consumer = app.transport.consumer("bench-raw")
    consumer.subscribe(["events"])
    loads = get_codec("json").loads
    n = 0
    start = time.perf_counter()
    with batch_sized(app.conf.max_poll_records):
        while n < events:
            for m in consumer.poll(5000, timeout=0.5):
                loads(m.value)
                n += 1
    elapsed = time.perf_counter() - start
    consumer.close()
    app.close()
    return n / elapsed


def stateless(
    datadir: Path,
    events: int,
    broker: str = "local://",
    topic: str = "events",
    out: str = "out",
    app_id: str = "bench-stateless",
) -> float:
    """(b) decode, filter, produce to another topic: an agent run by the worker."""
    app = App(app_id, datadir=datadir, broker=broker)
    src = app.topic(topic, partitions=PARTITIONS, key_type=str)
    dest = app.topic(out, partitions=PARTITIONS, key_type=str)

    @app.agent(src, sink=[dest])
    async def keep_ok(stream):  # type: ignore[no-untyped-def]
        async for value in stream.filter(lambda v: v["ok"]):
            yield value

    return _timed_run(app, events)


def _timed_run(app: App, events: int) -> float:
    start = time.perf_counter()
    worker = app.worker(until_idle=True, install_signal_handlers=False)
    worker.run()
    elapsed = time.perf_counter() - start
    if worker.stats.processed < events:
        raise SystemExit(f"{app.id}: processed only {worker.stats.processed} of {events}")
    return worker.stats.processed / elapsed


STATEFUL_PIPELINE = """
app: %(app)s
topics:
  %(topic)s: {partitions: %(partitions)d, key_type: str}
tables:
  amount_per_customer: {default: float}
agents:
  total:
    from: %(topic)s
    steps:
      - add: {table: amount_per_customer, value: amount}
%(extra)s"""


def stateful(
    datadir: Path,
    events: int,
    broker: str = "local://",
    topic: str = "events",
    extra: str = "",
    guarantee: str = "at_least_once",
    app_id: str = "bench-stateful",
) -> float:
    """(c) YAML steps summing the amount per key into a Table (SQLite store, changelog on).

    ``guarantee``: the processing_guarantee (c_eos: exactly_once, one SQLite transaction
    per commit for outputs, changelog and offsets).
    """
    from streamctl.pipeline import load_pipeline

    extra += f"settings: {{processing_guarantee: {guarantee}}}\n"
    path = datadir / "stateful.yaml"
    path.write_text(
        STATEFUL_PIPELINE
        % {"app": app_id, "topic": topic, "partitions": PARTITIONS, "extra": extra}
    )
    app = load_pipeline(path, broker=broker, datadir=datadir).app
    rate = _timed_run(app, events)
    check = load_pipeline(path, broker=broker, datadir=datadir).app
    table = check.tables["amount_per_customer"]
    table.recover(check.transport)
    expected = sum(make_event(i)["amount"] for i in range(events))
    if len(table) != min(KEYS, events) or abs(sum(table.values()) - expected) > 1e-6 * expected:
        raise SystemExit("stateful: the table does not hold the sum of the amounts")
    check.close()
    return rate


def windowed_count(datadir: Path, events: int) -> float:
    """(w) a windowed count with emit on close (bench/windowed.py)."""
    from windowed import windowed

    return windowed(datadir, events, partitions=PARTITIONS, keys=KEYS, make_event=make_event)


MODEL_PIPELINE = """
app: bench-models-%(validation)s
models:
  Event:
    options: {validation: %(validation)s}
    fields:
      id: {type: int, min: 0}
      customer: {type: str, pattern: "^customer-[0-9]+$", max_length: 40}
      amount: {type: float, min: 0, max: 1000}
      kind: {type: str, enum: [order, refund]}
      ok: bool
topics:
  events: {partitions: %(partitions)d, key_type: str, value_type: Event}
tables:
  amount_per_customer: {default: float}
agents:
  total:
    from: events
    steps:
      - add: {table: amount_per_customer, value: amount}
"""


def stateful_models(datadir: Path, events: int, validation: bool = True) -> float:
    """(d0/d1) scenario c with each value decoded into a YAML model (d1: validated)."""
    from streamctl.pipeline import load_pipeline

    path = datadir / "models.yaml"
    path.write_text(
        MODEL_PIPELINE % {"validation": str(validation).lower(), "partitions": PARTITIONS}
    )
    app = load_pipeline(path, datadir=datadir).app
    rate = _timed_run(app, events)
    check = load_pipeline(path, datadir=datadir).app
    table = check.tables["amount_per_customer"]
    table.recover(check.transport)
    expected = sum(make_event(i)["amount"] for i in range(events))
    if len(table) != min(KEYS, events) or abs(sum(table.values()) - expected) > 1e-6 * expected:
        raise SystemExit("stateful_models: the table does not hold the sum of the amounts")
    check.close()
    return rate


def chain(datadir: Path, events: int, plugin: bool = False) -> float:
    """(x/xp) an expression-heavy step chain, and the same as a plugin (bench/chain.py)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from chain import run

    return run(datadir, events, plugin=plugin, partitions=PARTITIONS, make_event=make_event)


def startup(datadir: Path, events: int) -> float:
    """(s) seconds from launching ``streamctl run`` of the quickstart to its first event."""
    sys.path.insert(0, str(ROOT / "bench"))
    from startup import one_run

    return one_run(datadir, 0)[0]


SCENARIOS: dict[str, tuple[str, Callable[..., float]]] = {
    "a": ("raw consume loop + JSON decode (the limit)", raw_loop),
    "b": ("stateless agent: decode, filter, produce", stateless),
    "c": ("stateful steps: sum per key into a Table (sqlite), at-least-once", stateful),
    "c_eos": (
        "as c, processing_guarantee exactly_once",
        lambda d, n: stateful(d, n, guarantee="exactly_once"),
    ),
    "d0": ("as c, values decoded into a YAML model", lambda d, n: stateful_models(d, n, False)),
    "d1": ("as c, values decoded into a validated YAML model", stateful_models),
    "w": (
        "windowed count: tumbling 1m over 1 h of event time, emit on close",
        lambda d, n: windowed_count(d, n),
    ),
    "x": (
        "expression chain: filter, map (2 fields), group_by, sum (#13)",
        lambda d, n: chain(d, n),
    ),
    "xp": ("as x, written as a Python plugin agent", lambda d, n: chain(d, n, plugin=True)),
    "s": ("start-up: streamctl run of the quickstart, launch to first event", startup),
}
SCENARIOS.update(kafka_scenarios.scenarios(stateless, stateful))


#: scenarios whose figure is not events/s: letter -> unit
UNITS = {"s": "s"}
#: scenarios also compared with another one of the same run: letter -> the other
VERSUS = {"x": "xp"}


def scenario_help() -> str:
    """The scenario table of ``--help``, from the registry (every scenario documents itself)."""
    lines = ["scenarios (--only):"]
    for letter, (title, _fn) in SCENARIOS.items():
        unit = UNITS.get(letter, "events/s")
        lines.append(f"  {letter:<6} {title} [{unit}]")
    return "\n".join(lines)


def in_child(fn: Callable[..., Any], *args: Any) -> tuple[Any, int]:
    """``fn(*args)`` in a forked process: (its result, a float or None; its peak RSS in
    bytes). Raises SystemExit with the child's error when it fails."""
    sys.stdout.flush()
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report the result or the error, and never return
        os.close(read_end)
        code = 0
        try:
            out = repr(fn(*args))
        except SystemExit as exc:
            out, code = f"error: {exc}", 1
        except BaseException as exc:  # reported to the parent
            import traceback

            out, code = "error: " + "".join(traceback.format_exception(exc)), 1
        with os.fdopen(write_end, "w") as pipe:
            pipe.write(out)
        os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        out = pipe.read()
    _pid, status, usage = os.wait4(pid, 0)
    if status != 0:
        raise SystemExit(out or f"a scenario process ended with status {status}")
    return (None if out == "None" else float(out)), usage.ru_maxrss * 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__,
        epilog=scenario_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument(
        "--only",
        default=",".join(s for s in SCENARIOS if s not in REFERENCE),
        help="comma-separated scenario letters (default: the embedded-broker ones; the "
        "Kafka ones, k* and r*, need the broker of scripts/kafka.sh start)",
    )
    parser.add_argument(
        "--broker",
        default="127.0.0.1:19092",
        help="Kafka bootstrap for the k* and r* scenarios (scripts/kafka.sh)",
    )
    parser.add_argument(
        "--profile", help="write a cProfile of this scenario letter to bench/<letter>.prof"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs per scenario (interleaved; embedded ones each on a fresh copy of the input, "
        "Kafka ones each with a fresh consumer group); the median and range are reported",
    )
    args = parser.parse_args()
    wanted = [s.strip() for s in args.only.split(",") if s.strip()]
    print(
        f"streamctl bench: {args.events:,} events, {PARTITIONS} partitions, {KEYS} keys; "
        f"python {platform.python_version()}, {os.cpu_count()} cpu(s)"
    )
    print(
        f"command: python bench/bench.py --events {args.events} --only {','.join(wanted)}"
        f" --repeat {args.repeat}"
    )
    unknown = [w for w in wanted if w not in SCENARIOS]
    if unknown:
        raise SystemExit(
            f"unknown scenario(s): {', '.join(unknown)} (known: {', '.join(SCENARIOS)})"
        )
    rates: dict[str, list[float]] = {letter: [] for letter in wanted}
    peaks: dict[str, int] = dict.fromkeys(wanted, 0)
    base = Path(tempfile.mkdtemp(prefix="streamctl-bench-"))
    try:
        seed = base / "seed"
        in_child(produce_input, seed, args.events)  # this process stays as small as it was
        if any(w in REFERENCE for w in wanted):
            import uuid

            KAFKA.update(bootstrap=args.broker, topic=f"bench-events-{uuid.uuid4().hex[:8]}")
            try:
                produce_input(
                    base / "kseed",
                    args.events,
                    f"kafka://{args.broker}",
                    KAFKA["topic"],
                    out=f"{KAFKA['topic']}-out",
                )
            except StreamctlError as exc:
                raise SystemExit(f"{exc}\n(start a broker first: scripts/kafka.sh start)") from None
        for run in range(max(1, args.repeat)):
            for letter in wanted:
                if args.profile == letter and run > 0:
                    continue  # a profiled scenario runs once
                rate, rss = _run_one(letter, base / f"{letter}-{run}", seed, args)
                rates[letter].append(rate)
                peaks[letter] = max(peaks[letter], rss)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    medians = {letter: statistics.median(found) for letter, found in rates.items()}
    for letter, found in rates.items():
        print(_line(letter, SCENARIOS[letter][0], found, medians, peaks[letter]))


def _run_one(letter: str, datadir: Path, seed: Path, args: argparse.Namespace) -> tuple[float, int]:
    """One run of one scenario on a fresh copy of the embedded input, in a process of its
    own: (its events/s, or seconds for ``s``; its peak RSS in bytes, 0 when profiled)."""
    fn = SCENARIOS[letter][1]
    shutil.copytree(seed, datadir)
    try:
        if args.profile != letter:
            rate, rss = in_child(fn, datadir, args.events)
            return float(rate), rss
        import cProfile

        prof = cProfile.Profile()
        rate = prof.runcall(fn, datadir, args.events)
        prof.dump_stats(str(ROOT / "bench" / f"{letter}.prof"))
        return rate, 0
    finally:
        shutil.rmtree(datadir, ignore_errors=True)


def _line(letter: str, title: str, rates: list[float], results: dict[str, float], peak: int) -> str:
    """One scenario's line: median, ratio to its reference, range, peak RSS."""
    rate = results[letter]
    unit = UNITS.get(letter)
    if unit is not None:
        figure = f"{rate:>10.3f} {unit}"
        spread = f" [{min(rates):.3f}..{max(rates):.3f}]" if len(rates) > 1 else ""
        ratio = ""
    else:
        figure = f"{rate:>10,.0f} events/s"
        spread = f" [{min(rates):,.0f}..{max(rates):,.0f}]" if len(rates) > 1 else ""
        ref = REFERENCE.get(letter, "a")
        ratio = (
            f"  ({rate / results[ref]:.0%} of {ref})" if ref in results and letter != ref else ""
        )
    for this, other in VERSUS.items():
        if letter in (this, other) and this in results and other in results:
            # per-event costs: the inverse ratio of the rates
            ratio += f"  ({this} costs {results[other] / results[this]:.2f}x {other} per event)"
    rss = f"  peak RSS {peak / 2**20:.0f} MB" if peak else ""
    return f"({letter}) {title:<56} {figure}{ratio}{spread}{rss}"


if __name__ == "__main__":
    main()
