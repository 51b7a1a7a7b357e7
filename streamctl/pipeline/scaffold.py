"""``streamctl init``: a new pipeline folder with a model, a step chain, a sample input and a passing test.

The files name their app after the folder (``shop/`` -> app ``shop``, topics
``shop-orders``, ...), so two scaffolded pipelines can share a data dir. Nothing is
overwritten: a folder that already holds one of the files is refused.
"""

from __future__ import annotations

import re
from pathlib import Path

from streamctl.exceptions import ConfigurationError

_APP = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

PIPELINE = """\
# yaml-language-server: $schema=pipeline.schema.json
# APP: orders are validated against the Order model as they are read (a bad one goes
# to APP-invalid with the reason), priced, summed per customer, and the large ones
# forwarded. Try it (streamctl init wrote this folder):
#
#   streamctl validate APP.yaml
#   streamctl test APP.yaml        # the tests in APP_test.yaml, on an in-memory broker
#   streamctl send APP-orders -p APP.yaml --file data/APP.jsonl --key-field customer
#   streamctl run APP.yaml --until-idle
#   streamctl table dump APP.yaml revenue -f jsonl
app: APP

models:
  Order:
    options: {validation: true}       # decode = check
    fields:
      id: {type: int, min: 1}
      customer: {type: str, min_length: 1}
      quantity: {type: int, min: 1}
      price: {type: float, min: 0}

topics:
  APP-orders: {partitions: 2, value_type: Order, dead_letter: APP-invalid}
  APP-invalid: {partitions: 1}
  APP-large: {partitions: 2}

tables:
  revenue: {default: float, help: revenue per customer}

agents:
  revenue:
    from: APP-orders
    steps:
      - map: {total: "price * quantity"}
      - group_by: customer              # repartition: the key is the customer
      - sum: {table: revenue, value: total}
      - filter: "total >= 100"
      - to: APP-large
"""

TESTS = """\
# yaml-language-server: $schema=pipeline-test.schema.json
# Unit tests of APP.yaml: streamctl test APP.yaml
tests:
  - name: sums revenue per customer and forwards the large orders
    input:
      APP-orders:
        - {value: {id: 1, customer: ada, quantity: 2, price: 80.0}}
        - {value: {id: 2, customer: bob, quantity: 1, price: 5.0}}
        - {value: {id: 3, customer: ada, quantity: 1, price: 2.5}}
    expect:
      tables:
        revenue: {ada: 162.5, bob: 5.0}
      topics:
        APP-large:
          - {key: ada, value: {id: 1, customer: ada, quantity: 2, price: 80.0, total: 160.0}}
  - name: an invalid order is parked with the reason
    input:
      APP-orders: [{value: {id: 4, customer: ada, quantity: 0, price: 1.0}}]
    expect:
      topics:
        APP-invalid: [{value: {id: 4, customer: ada, quantity: 0, price: 1.0}, reason: quantity}]
      tables:
        revenue: {}
"""

SAMPLE = """\
{"id": 1, "customer": "ada", "quantity": 2, "price": 80.0}
{"id": 2, "customer": "bob", "quantity": 1, "price": 5.0}
{"id": 3, "customer": "ada", "quantity": 1, "price": 2.5}
{"id": 4, "customer": "ada", "quantity": 0, "price": 1.0}
"""


#: a NAME ``init`` takes: one folder name, which becomes the app id
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def check_name(name: str) -> None:
    """ConfigurationError (exit 2) unless ``name`` is ``.`` (this folder) or one
    identifier-like folder name: ``..``, a path or a file name (``x.yaml``) would fill
    another folder or name the app after a file."""
    if name != "." and not _NAME.match(name):
        raise ConfigurationError(
            f"init {name}: NAME is a new folder's name, which becomes the app id "
            "(letters, digits, _ -; no path, no suffix), e.g. streamctl init shop"
        )


def scaffold(folder: Path) -> list[Path]:
    """Write a new pipeline into ``folder`` (created if missing) and return the files
    written. Raises ConfigurationError (exit 2) for a folder name that is no app id or
    a file that exists already (nothing is written then)."""
    from streamctl.pipeline.pipelineschema import pipeline_schema, render, test_file_schema

    app = folder.resolve().name
    if not _APP.match(app):
        raise ConfigurationError(
            f"{folder}: {app!r} is not an app id (letters, digits, . _ -); pick another folder name"
        )
    files = {
        folder / f"{app}.yaml": PIPELINE.replace("APP", app),
        folder / f"{app}_test.yaml": TESTS.replace("APP", app),
        folder / "data" / f"{app}.jsonl": SAMPLE,
        folder / "pipeline.schema.json": render(pipeline_schema()),
        folder / "pipeline-test.schema.json": render(test_file_schema()),
    }
    for path in files:
        if path.exists():
            raise ConfigurationError(f"{path} exists already; init writes only new files")
    if folder.exists() and not folder.is_dir():
        raise ConfigurationError(f"{folder} is a file, not a folder")
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot write {folder}: {exc.strerror}") from None
    return list(files)
