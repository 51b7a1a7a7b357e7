"""Models in pipelines end to end: dead letters with reasons, fuzzing, YAML mistakes, schemas."""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Optional

import pytest
from support import ROOT, cli, read_topic

from streamctl.app import App
from streamctl.cli.validate import PROBLEMS_FOUND
from streamctl.exceptions import DecodeError
from streamctl.models import DecimalField, IntegerField, Record, StringField, registry
from streamctl.pipeline import load_pipeline
from streamctl.transport.base import Message

ORDERS = ROOT / "pipelines" / "orders.yaml"
PRODUCTS = ROOT / "pipelines" / "products.yaml"
MODEL_FILE = ROOT / "pipelines" / "models" / "orders.yaml"
MIXED = ROOT / "pipelines" / "data" / "orders-mixed.jsonl"

#: line of orders-mixed.jsonl -> what the dead letter's streamctl.error must say
INVALID_LINES = {
    3: "Order.quantity: must be >= 1; got 0",
    5: "Order.price: must have at most 2 decimal places",
    6: "Order.customer_id: is required",
    8: "Order.quantity: cannot convert to int",
    9: "Order.id: expected int (has a fraction)",
    11: "Order.created: cannot convert to datetime",
    12: "Order.customer_id: must match pattern",
    13: "Order: expected a JSON object, got list",
    15: "Order.price: must be a finite decimal",
    16: "Order.quantity: must be <= 1000",
    17: "Order.price: must be >= 0",
    19: "Order.quantity: expected int; got True",
    20: "Order.product: must not be blank",
    22: "Order.note: expected str",
}
#: what a misbehaving producer sends that `streamctl send` would refuse -> reason
RAW_INVALID = {
    b'{"id": 30, "customer_id": "ada", "product": "pen", "quantity": 1': "invalid JSON",
    b'{"id": 31, "customer_id": "ada\xff", "product": "pen"}': "invalid JSON: not UTF-8",
}


def _lines() -> dict[int, Any]:
    return {n: json.loads(text) for n, text in enumerate(MIXED.read_text().splitlines(), 1)}


def _valid_orders() -> list[dict[str, Any]]:
    return [obj for n, obj in _lines().items() if n not in INVALID_LINES]


#: each example reads its own input topic, so the examples can share a data dir (#10)
SOURCE = {ORDERS: "shop-orders", PRODUCTS: "product-orders"}


def _send_mixed(datadir: Path, pipeline: Path = ORDERS) -> None:
    sent = cli("send", SOURCE[pipeline], "-p", pipeline, "-d", datadir, "--file", MIXED)
    assert sent.exit_code == 0, sent.output
    app = load_pipeline(pipeline, datadir=datadir).app
    try:
        for raw in RAW_INVALID:
            app.producer.send(SOURCE[pipeline], None, raw)
        app.producer.flush()
    finally:
        app.close()


def _dump(pipeline: Path, datadir: Path, table: str) -> Any:
    result = cli("table", "dump", pipeline, table, "-d", datadir)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _headers(m: Message) -> dict[str, str]:
    return {k: v.decode() for k, v in m.headers}


def _check_dead_letters(datadir: Path, topic: str, origin: str = "shop-orders") -> list[Message]:
    """Every invalid record, and only those, is in ``topic`` with its reason and origin."""
    originals = {(m.partition, m.offset): m for m in read_topic(datadir, origin)}
    by_json = {json.dumps(obj, sort_keys=True): n for n, obj in _lines().items()}
    dead = read_topic(datadir, topic)
    seen: dict[Any, str] = {}
    for m in dead:
        h = _headers(m)
        assert h["streamctl.source.topic"] == origin
        source = originals[int(h["streamctl.source.partition"]), int(h["streamctl.source.offset"])]
        assert (m.key, m.value, m.timestamp) == (source.key, source.value, source.timestamp)
        try:
            which: Any = by_json[json.dumps(json.loads(m.value), sort_keys=True)]
        except ValueError:
            which = m.value
        assert which not in seen, f"dead-lettered twice: {which}"
        seen[which] = h["streamctl.error"]
        assert h["streamctl.error.type"] in ("ValidationError", "DecodeError")
    expected = {**INVALID_LINES, **RAW_INVALID}
    assert set(seen) == set(expected)
    for which, reason in expected.items():
        assert seen[which].startswith(reason), (which, seen[which])
    return dead


# --------------------------------------------------------------------------- (a) dead letters


def test_invalid_orders_are_dead_letters_with_reasons_and_valid_ones_are_counted(
    tmp_path: Path,
) -> None:
    _send_mixed(tmp_path)
    result = cli("run", ORDERS, "-d", tmp_path, "--until-idle")
    assert result.exit_code == 0, result.output

    dead = _check_dead_letters(tmp_path, "orders-invalid")

    counts: dict[str, int] = defaultdict(int)
    revenue: dict[str, float] = defaultdict(float)
    for order in _valid_orders():
        counts[order["customer_id"]] += 1
        # the pipeline's own expression; the prices are exact in binary, so the order of
        # the additions (partitions interleave) cannot change the sums
        revenue[order["customer_id"]] += float(Decimal(str(order["price"]))) * order["quantity"]
    assert _dump(ORDERS, tmp_path, "orders_per_customer") == counts
    assert _dump(ORDERS, tmp_path, "revenue_per_customer") == revenue
    bulk = [json.loads(m.value) for m in read_topic(tmp_path, "bulk-orders")]
    assert [o["id"] for o in bulk] == [o["id"] for o in _valid_orders() if o["quantity"] >= 10]
    assert bulk[0]["price"] == "4.50" and bulk[0]["created"] == "2024-05-01T09:45:00+00:00"

    tail = cli("topic", "tail", "orders-invalid", "-p", ORDERS, "-d", tmp_path, "-n", "100")
    assert tail.exit_code == 0, tail.output
    shown = [json.loads(line)["dead_letter"] for line in tail.stdout.splitlines()]
    assert sorted((d["source"], d["error"]) for d in shown) == sorted(
        (
            f"shop-orders[{h['streamctl.source.partition']}]@{h['streamctl.source.offset']}",
            h["streamctl.error"],
        )
        for h in map(_headers, dead)
    )
    assert any("must match pattern '^[a-z][a-z0-9_-]*$'" in d["error"] for d in shown)


def test_a_shared_model_file_works_like_the_inline_section(tmp_path: Path) -> None:
    _send_mixed(tmp_path, PRODUCTS)
    result = cli("run", PRODUCTS, "-d", tmp_path, "--until-idle")
    assert result.exit_code == 0, result.output
    _check_dead_letters(
        tmp_path, "products-invalid", "product-orders"
    )  # the agent's dead letter topic
    units: dict[str, int] = defaultdict(int)
    for order in _valid_orders():
        units[order["product"]] += order["quantity"]
    assert _dump(PRODUCTS, tmp_path, "units_per_product") == units
    inline = load_pipeline(ORDERS, datadir=tmp_path).app.topics["shop-orders"].value_type
    shared = load_pipeline(PRODUCTS, datadir=tmp_path).app.topics["product-orders"].value_type
    assert inline._options.fields == shared._options.fields
    assert inline.__doc__ == shared.__doc__


# --------------------------------------------------------------------------- (b) no dead letter


def test_without_a_dead_letter_topic_the_run_stops_at_the_bad_record_and_applies_nothing(
    tmp_path: Path,
) -> None:
    text = ORDERS.read_text()
    assert ", dead_letter: orders-invalid" in text
    pipeline = tmp_path / "orders.yaml"
    pipeline.write_text(text.replace(", dead_letter: orders-invalid", ""))
    data = tmp_path / "data"
    good = tmp_path / "good.jsonl"
    good.write_text("".join(json.dumps(o) + "\n" for o in _valid_orders()))
    assert cli("send", "shop-orders", "-p", pipeline, "-d", data, "--file", good).exit_code == 0
    assert cli("run", pipeline, "-d", data, "--until-idle").exit_code == 0
    before = {t: _dump(pipeline, data, t) for t in ("orders_per_customer", "revenue_per_customer")}
    assert before["orders_per_customer"]["ada"] == 3

    # one batch, one partition (same key): valid, invalid, valid
    order = {"id": 40, "customer_id": "ada", "product": "pen", "quantity": 5, "price": "1.00"}
    order["created"] = "2024-05-02T00:00:00Z"
    batch = [order, {**order, "id": 41, "customer_id": "Ada!"}, {**order, "id": 42}]
    more = tmp_path / "more.jsonl"
    more.write_text("".join(json.dumps(o) + "\n" for o in batch))
    sent = cli("send", "shop-orders", "-p", pipeline, "-d", data, "--file", more, "-k", "ada")
    assert sent.exit_code == 0, sent.output
    (bad,) = [m for m in read_topic(data, "shop-orders") if json.loads(m.value)["id"] == 41]

    for _ in range(2):  # not skipped on the next run either: its offset was never committed
        result = cli("run", pipeline, "-d", data, "--until-idle")
        assert result.exit_code != 0
        assert f"cannot decode shop-orders[{bad.partition}]@{bad.offset}" in result.stderr
        assert "Order.customer_id: must match pattern '^[a-z][a-z0-9_-]*$'" in result.stderr
        after = {t: _dump(pipeline, data, t) for t in before}
        assert after == before  # nothing of the batch, not even the valid order before it


# --------------------------------------------------------------------------- (c) fuzzing


class Unrelated(Record, namespace="test.models_pipeline.Unrelated"):
    """A model the topic does not want: its namespace in a payload must not select it."""

    secret: str


GOOD = {
    "id": 1,
    "customer_id": "fuzz",
    "product": "pen",
    "quantity": 2,
    "price": "4.50",
    "created": "2024-05-01T09:00:00Z",
}
GOOD_BYTES = json.dumps(GOOD).encode()
DEEP = 100_000


def _with(raw: str) -> bytes:
    """GOOD with its note set to ``raw`` JSON text."""
    return GOOD_BYTES[:-1] + b', "note": ' + raw.encode() + b"}"


def _fuzz_payloads() -> dict[str, bytes]:
    cases: dict[str, bytes] = {}
    for n in (0, 1, 10, len(GOOD_BYTES) // 2, len(GOOD_BYTES) - 1):
        cases[f"truncated at {n}"] = GOOD_BYTES[:n]
    wrong = {
        "id": "x", "quantity": [], "price": {}, "created": False, "customer_id": {"a": 1},
        "product": None, "note": {"a": 1},
    }  # fmt: skip
    for field, value in wrong.items():
        cases[f"wrong type {field}"] = json.dumps({**GOOD, field: value}).encode()
    cases["not an object"] = b'"order"'
    cases["null document"] = b"null"
    cases["huge int"] = b'{"id": ' + b"9" * 5000 + b"}"
    cases["huge float"] = GOOD_BYTES.replace(b'"4.50"', b"1e400")
    cases["huge quantity"] = json.dumps({**GOOD, "quantity": 2**64}).encode()
    cases["huge decimal"] = json.dumps({**GOOD, "price": "9" * 100}).encode()
    cases["tiny decimal"] = json.dumps({**GOOD, "price": "1e-999999999"}).encode()
    cases["deep list"] = b"[" * DEEP + b"]" * DEEP
    cases["deep object"] = b'{"a":' * DEEP + b"1" + b"}" * DEEP
    cases["deep unclosed"] = b"[" * DEEP
    cases["deep field"] = _with("[" * DEEP + "]" * DEEP)
    cases["invalid utf-8"] = b"\xff\xfe" + GOOD_BYTES
    cases["invalid utf-8 in a string"] = GOOD_BYTES.replace(b"fuzz", b"fu\xc3\x28z")
    cases["overlong utf-8"] = GOOD_BYTES.replace(b"pen", b"pe\xc0\xaf")
    cases["utf-8 surrogate bytes"] = GOOD_BYTES.replace(b"pen", b"pe\xed\xa0\x80")
    cases["lone surrogate escape"] = GOOD_BYTES.replace(b"pen", b"pe\\ud800")
    cases["utf-16"] = GOOD_BYTES.decode().encode("utf-16")
    cases["NaN literal"] = GOOD_BYTES.replace(b'"4.50"', b"NaN")
    cases["Infinity literal"] = GOOD_BYTES.replace(b'"4.50"', b"-Infinity")
    cases["NaN text"] = GOOD_BYTES.replace(b'"4.50"', b'"NaN"')
    cases["sNaN text"] = GOOD_BYTES.replace(b'"4.50"', b'"sNaN"')
    cases["ns of an unrelated model"] = json.dumps(
        {"__faust": {"ns": "test.models_pipeline.Unrelated"}, "secret": "s"}
    ).encode()
    cases["ns of an unknown class"] = json.dumps(
        {"__faust": {"ns": "os.system"}, "command": "true"}
    ).encode()
    cases["malformed ns"] = json.dumps({"__faust": {"ns": ["x"]}, "id": 1}).encode()
    return cases


FOREIGN_NS = {"os.system", "test.models_pipeline.Unrelated", "orders.Nope"}


def test_fuzzed_records_are_dead_letters_and_the_worker_keeps_going(tmp_path: Path) -> None:
    cases = _fuzz_payloads()
    app = load_pipeline(ORDERS, datadir=tmp_path).app
    app.ensure_topics()
    for raw in cases.values():
        app.producer.send("shop-orders", b"k", raw)
    # controls: a valid order, and valid orders naming a foreign class in __faust, which
    # (as in Faust, for a concrete value type) decode as an Order, never as that class
    app.producer.send("shop-orders", b"k", GOOD_BYTES)
    for i, ns in enumerate(sorted(FOREIGN_NS)):
        foreign = {**GOOD, "id": 100 + i, "customer_id": "foreign", "__faust": {"ns": ns}}
        app.producer.send("shop-orders", b"k", json.dumps(foreign).encode())
    app.producer.flush()
    worker = app.worker(until_idle=True, install_signal_handlers=False)
    assert worker.run() == 0
    app.close()

    dead = {m.value: _headers(m)["streamctl.error"] for m in read_topic(tmp_path, "orders-invalid")}
    missing = [name for name, raw in cases.items() if raw not in dead]
    assert not missing, f"not dead-lettered: {missing}"
    assert len(dead) == len(cases)  # and nothing else
    reasons = {
        "truncated at 10": "invalid JSON: Expecting property name",
        "wrong type created": "Order.created: expected datetime (ISO 8601); got False",
        "null document": "Order: expected a JSON object, got NoneType",
        "huge int": "invalid JSON: Exceeds the limit (4300 digits)",
        "huge float": "invalid JSON: number '1e400' is out of range",
        "huge quantity": "Order.quantity: must be <= 1000",
        "deep list": "invalid JSON: nested too deeply",
        "deep object": "invalid JSON: nested too deeply",
        "deep field": "invalid JSON: nested too deeply",
        "invalid utf-8 in a string": "invalid JSON: not UTF-8 (invalid continuation byte",
        "lone surrogate escape": "invalid JSON: lone surrogate \\ud800 is not a Unicode character",
        "utf-16": "invalid JSON: not UTF-8",
        "NaN literal": "invalid JSON: NaN is not valid JSON",
        "sNaN text": "Order.price: must be a finite decimal",
        "ns of an unrelated model": "Order.id: is required",
    }
    for name, reason in reasons.items():
        assert dead[cases[name]].startswith(reason), (name, dead[cases[name]])
    assert all(len(reason) < 400 for reason in dead.values())  # no payload floods a header
    counts = _dump(ORDERS, tmp_path, "orders_per_customer")
    assert counts == {"fuzz": 1, "foreign": len(FOREIGN_NS)}


# --------------------------------------------------------------------------- (d) YAML mistakes

MODELS_OK = """\
models:
  Customer:
    fields:
      id: str
  Order:
    options: {validation: true}
    fields:
      id: int
      customer: Customer
      quantity: {type: int, min: 1}
      price: {type: decimal, max_digits: 10, decimal_places: 2}
"""

#: name -> (replace this, with this, the token the error points at, message)
MISTAKES = {
    "unknown type": (
        "customer: Customer",
        "customer: Custmer",
        "Custmer",
        "unknown type 'Custmer'",
    ),
    "unknown generic": (
        "id: int\n      customer",
        'id: {type: "lst[int]"}\n      customer',
        "lst[int]",
        "'lst' takes no parameters",
    ),
    "bad constraint": (
        "{type: int, min: 1}",
        "{type: int, min: 5, max: 1}",
        "5, max",
        "min 5 is greater than max 1",
    ),
    "constraint of another type": (
        "{type: int, min: 1}",
        "{type: int, decimal_places: 1}",
        "1}",
        "decimal_places applies to decimal fields, not int",
    ),
    "invalid default": (
        "{type: int, min: 1}",
        "{type: int, min: 1, default: 0}",
        "0}",
        "0 is not valid: must be >= 1",
    ),
    "cycle": (
        "id: str\n",
        "id: str\n      last: Order\n",
        "Customer\n",
        "models refer to each other in a cycle: Customer -> Order -> Customer",
    ),
    "unknown option": (
        "{validation: true}",
        "{validation: true, validate: true}",
        "validate:",
        "unknown option 'validate'",
    ),
    "unknown field key": (
        "{type: int, min: 1}",
        "{type: int, minimum: 1}",
        "minimum",
        "unknown key 'minimum'",
    ),
}

PIPELINE_HEAD = """\
app: shop
topics:
  orders: {partitions: 2, value_type: Order}
"""


def _position(text: str, token: str, start: int = 0) -> tuple[int, int]:
    """1-based line and column of the first ``token`` at or after ``start``."""
    at = text.index(token, start)
    return text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1


@pytest.mark.parametrize("form", ["inline", "model file"])
@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_model_mistakes_are_reported_at_their_file_line_and_column(
    tmp_path: Path, mistake: str, form: str
) -> None:
    old, new, token, message = MISTAKES[mistake]
    assert MODELS_OK.count(old) == 1
    models = MODELS_OK.replace(old, new)
    pipeline = tmp_path / "shop.yaml"
    if form == "inline":
        pipeline.write_text(PIPELINE_HEAD + models)
        where, text = pipeline, PIPELINE_HEAD + models
    else:
        (tmp_path / "models").mkdir()
        where = tmp_path / "models" / "shop.yaml"
        where.write_text(models)
        pipeline.write_text(PIPELINE_HEAD + "models: models/shop.yaml\n")
        text = models
    # the token is searched from the change on: the same word may come earlier
    line, column = _position(text, token, text.index(new))
    result = cli("validate", pipeline)
    assert result.exit_code == PROBLEMS_FOUND
    (problem,) = result.stderr.splitlines()
    assert problem.startswith(f"{where.resolve() if form != 'inline' else where}:{line}:{column}: ")
    assert message in problem


def test_the_example_model_file_has_positions_in_that_file(tmp_path: Path) -> None:
    models = tmp_path / "pipelines" / "models"
    models.mkdir(parents=True)
    text = MODEL_FILE.read_text().replace("max: 1000}", "max: 1000, maximum: 5}")
    (models / "orders.yaml").write_text(text)
    shutil.copy(PRODUCTS, tmp_path / "pipelines" / "products.yaml")
    result = cli("validate", tmp_path / "pipelines" / "products.yaml")
    assert result.exit_code == PROBLEMS_FOUND
    line, column = _position(text, "maximum")
    assert result.stderr.startswith(f"{(models / 'orders.yaml').resolve()}:{line}:{column}: ")
    assert "unknown key 'maximum'" in result.stderr


# --------------------------------------------------------------------------- (e) schemas


def _pipelines() -> list[Path]:
    return sorted((ROOT / "pipelines").glob("*.yaml"))


def test_committed_schemas_are_current() -> None:
    result = cli("schema", "check", *_pipelines(), "--dir", ROOT / "schemas")
    assert result.exit_code == 0, result.output
    assert "schemas are current" in result.stdout


def test_export_is_deterministic_and_is_what_is_committed(tmp_path: Path) -> None:
    exports = []
    for name in ("one", "two"):
        result = cli("schema", "export", *_pipelines(), "--out", tmp_path / name)
        assert result.exit_code == 0, result.output
        exports.append(
            {
                p.relative_to(tmp_path / name): p.read_bytes()
                for p in (tmp_path / name).rglob("*")
                if p.is_file()
            }
        )
    assert exports[0] == exports[1]
    assert sorted(map(str, exports[0])) == [
        "order-totals/OrderLine.schema.json",
        "orders/Order.schema.json",
        "products/Order.schema.json",
    ]
    assert sorted(p.name for p in (tmp_path / "one").iterdir()) == [
        "order-totals",
        "orders",
        "products",
    ]
    for rel, data in exports[0].items():
        assert (ROOT / "schemas" / rel).read_bytes() == data


@pytest.mark.parametrize("which", ["inline", "model file"])
def test_a_changed_model_fails_check_naming_the_stale_file(tmp_path: Path, which: str) -> None:
    (tmp_path / "pipelines" / "models").mkdir(parents=True)
    shutil.copytree(ROOT / "schemas" / "orders", tmp_path / "schemas" / "orders")
    shutil.copytree(ROOT / "schemas" / "products", tmp_path / "schemas" / "products")
    model_file = tmp_path / "pipelines" / "models" / "orders.yaml"
    model_file.write_text(MODEL_FILE.read_text())
    for p in (ORDERS, PRODUCTS):
        shutil.copy(p, tmp_path / "pipelines" / p.name)
    pipelines = sorted((tmp_path / "pipelines").glob("*.yaml"))
    assert cli("schema", "check", *pipelines, "--dir", tmp_path / "schemas").exit_code == 0

    changed = tmp_path / "pipelines" / "orders.yaml" if which == "inline" else model_file
    changed.write_text(changed.read_text().replace("max: 1000", "max: 500"))
    app = "orders" if which == "inline" else "products"
    result = cli("schema", "check", *pipelines, "--dir", tmp_path / "schemas")
    assert result.exit_code != 0
    stale = tmp_path / "schemas" / app / "Order.schema.json"
    assert f"stale or missing: {stale}" in result.stderr
    assert len([line for line in result.stderr.splitlines() if "stale" in line]) == 1

    assert cli("schema", "export", *pipelines, "--out", tmp_path / "schemas").exit_code == 0
    assert cli("schema", "check", *pipelines, "--dir", tmp_path / "schemas").exit_code == 0


def test_check_flags_the_schema_of_a_model_that_is_gone(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "schemas" / "orders", tmp_path / "orders")
    (tmp_path / "orders" / "Refund.schema.json").write_text("{}\n")
    result = cli("schema", "check", ORDERS, "--dir", tmp_path)
    assert result.exit_code != 0
    assert f"no such model: {tmp_path / 'orders' / 'Refund.schema.json'}" in result.stderr


def test_schema_commands_accept_pipelines_without_models(tmp_path: Path) -> None:
    quickstart = ROOT / "pipelines" / "quickstart.yaml"
    result = cli("schema", "export", quickstart, "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert list(tmp_path.iterdir()) == []
    assert "no models" in result.stderr
    assert cli("schema", "check", quickstart, "--dir", tmp_path).exit_code == 0


# --------------------------------------------------------------------------- parity


class Order(
    Record, namespace="test.models_pipeline.Order", validation=True, isodates=True, decimals=True
):
    """pipelines/orders.yaml's Order, written in Python."""

    id: int = IntegerField(min_value=1)
    customer_id: str = StringField(pattern=r"^[a-z][a-z0-9_-]*$", max_length=40)
    product: str = StringField(min_length=1)
    quantity: int = IntegerField(min_value=1, max_value=1000)
    price: Decimal = DecimalField(min_value=Decimal(0), max_digits=10, decimal_places=2)
    created: datetime
    note: Optional[str] = None  # noqa: UP045


@pytest.mark.parametrize(
    "raw",
    [line.encode() for line in MIXED.read_text().splitlines()]
    + list(RAW_INVALID)
    + [GOOD_BYTES.replace(b'"4.50"', b"NaN"), b"[" * DEEP, GOOD_BYTES.replace(b"pen", b"\\udc00")],
    ids=lambda raw: raw[:40].decode("utf-8", "replace"),
)
def test_python_and_yaml_models_decode_the_same_through_the_engine(tmp_path: Path, raw: bytes):
    saved = dict(registry)
    try:
        app = App("parity", datadir=tmp_path)
        python_topic = app.topic("orders", value_type=Order)
        yaml_topic = load_pipeline(ORDERS, datadir=tmp_path).app.topics["shop-orders"]
        outcomes = []
        for topic in (python_topic, yaml_topic):
            try:
                value = topic.value_loader(raw)
                assert type(value) is topic.value_type
                outcomes.append(("ok", value.asdict()))
            except DecodeError as exc:
                outcomes.append(("error", f"{type(exc).__name__}: {exc}"))
        assert outcomes[0] == outcomes[1]
    finally:
        registry.clear()
        registry.update(saved)
