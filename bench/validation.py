"""Micro-benchmark: decode + construct ~100-byte Order events, with and without validation.

Run: PYTHONPATH=$PWD python bench/validation.py
Compares the built-in field checks (``validation=True``) with a compiled jsonschema
Draft202012Validator run on the decoded dict before construction.
"""

from __future__ import annotations

import time
import timeit
from datetime import datetime
from decimal import Decimal

from streamctl.models import DecimalField, IntegerField, Record, Serde, StringField
from streamctl.models.schema import schema_validator


class Order(Record, namespace="bench.Order", isodates=True, decimals=True):
    id: int
    customer_id: str
    product_id: str
    quantity: int
    price: Decimal
    created: datetime


class ValidatedOrder(Record, namespace="bench.ValidatedOrder", validation=True, isodates=True):
    id: int
    customer_id: str = StringField(max_length=32)
    product_id: str = StringField(max_length=32)
    quantity: int = IntegerField(min_value=1)
    price: Decimal = DecimalField(max_digits=10, decimal_places=2)
    created: datetime


PAYLOAD = (
    b'{"id":123456,"customer_id":"c-42","product_id":"p-7","quantity":3,'
    b'"price":"19.99","created":"2024-05-01T12:00:00+00:00"}'
)


def main(number: int = 20_000, repeat: int = 15) -> None:
    plain = Serde(Order)
    checked = Serde(ValidatedOrder)
    jsonschema_validator = schema_validator(Order)
    codec = plain.codec

    def with_jsonschema() -> object:
        data = codec.loads(PAYLOAD)
        jsonschema_validator.validate(data)
        return Order.from_data(data)

    assert plain.loads(PAYLOAD).quantity == 3 and checked.loads(PAYLOAD).quantity == 3
    cases = {
        "decode only (codec.loads)": lambda: codec.loads(PAYLOAD),
        "decode + construct": lambda: plain.loads(PAYLOAD),
        "decode + construct + validation": lambda: checked.loads(PAYLOAD),
        "decode + jsonschema + construct": with_jsonschema,
    }
    print(f"payload: {len(PAYLOAD)} bytes, {number} iterations, best of {repeat}\n")
    # Round-robin so a noisy neighbour slows every case alike; keep each case's best.
    best = {label: float("inf") for label in cases}
    for _ in range(repeat):
        for label, fn in cases.items():
            t = timeit.timeit(fn, number=number, timer=time.process_time) / number
            best[label] = min(best[label], t)
    results = best
    for label, t in best.items():
        print(f"{label:34s} {t * 1e6:7.2f} us  {1 / t:12,.0f} /s")
    base = results["decode + construct"]
    for label in ("decode + construct + validation", "decode + jsonschema + construct"):
        print(f"{label}: +{(results[label] / base - 1) * 100:.0f}% over decode + construct")


if __name__ == "__main__":
    main()
