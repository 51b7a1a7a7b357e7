"""Micro-benchmark: stdlib json vs orjson for ~100-byte events (decode and encode).

Run: PYTHONPATH=$PWD python bench/codecs.py
"""

from __future__ import annotations

import json
import math
import time
import timeit

EVENT = {
    "id": 123456,
    "customer_id": "c-42",
    "product_id": "p-7",
    "quantity": 3,
    "price": 19.99,
    "created": "2024-05-01T12:00:00+00:00",
}


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not allowed")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError("number out of range")
    return value


def main(number: int = 50_000, repeat: int = 15) -> None:
    payload = json.dumps(EVENT, separators=(",", ":")).encode()
    print(f"payload: {len(payload)} bytes, {number} iterations, best of {repeat}\n")
    plain = json.JSONDecoder()
    strict = json.JSONDecoder(parse_constant=_reject_constant)
    strict_float = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)
    encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
    cases = {
        "json.loads (default decoder)": lambda: plain.decode(payload.decode()),
        "json strict (no NaN)": lambda: strict.decode(payload.decode()),
        "json strict + finite floats": lambda: strict_float.decode(payload.decode()),
        "json encode (compact, utf-8)": lambda: encoder.encode(EVENT).encode(),
    }
    from streamctl.models.codecs import JSONCodec, _stdlib_loads

    codec = JSONCodec()
    cases["streamctl json codec: loads"] = lambda: codec.loads(payload)
    cases["streamctl json codec: stdlib path"] = lambda: _stdlib_loads(payload)
    cases["streamctl json codec: dumps"] = lambda: codec.dumps(EVENT)
    try:
        import orjson
    except ImportError:
        print("orjson not installed: stdlib only\n")
    else:
        cases["orjson.loads"] = lambda: orjson.loads(payload)
        cases["orjson.dumps"] = lambda: orjson.dumps(EVENT)
    # Round-robin so a noisy neighbour slows every case alike; keep each case's best.
    best = {label: float("inf") for label in cases}
    for _ in range(repeat):
        for label, fn in cases.items():
            t = timeit.timeit(fn, number=number, timer=time.process_time) / number
            best[label] = min(best[label], t)
    for label, t in best.items():
        print(f"{label:34s} {t * 1e6:7.2f} us  {1 / t:12,.0f} /s")


if __name__ == "__main__":
    main()
