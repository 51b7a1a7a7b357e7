"""Type compatibility where the model declares types (#13): sum over a text field,
arithmetic on text, a number compared with text, unknown fields: validate errors at
the offending part of the expression; nothing is checked where no type is known."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import cli

from streamctl.cli.validate import PROBLEMS_FOUND

PIPE = """\
app: types
broker: memory://
models:
  Customer:
    fields: {name: str, vip: bool}
  Order:
    fields:
      id: int
      name: str
      price: float
      qty: int?
      customer: Customer
topics:
  orders: {value_type: Order}
  plain: {}
  out: {}
tables:
  totals: {default: float}
  products: {kind: global}
agents:
  a:
    from: %s
    steps:
%s"""


def _validate(tmp_path: Path, steps: str, topic: str = "orders") -> list[str]:
    path = tmp_path / "p.yaml"
    path.write_text(PIPE % (topic, steps))
    result = cli("validate", path)
    lines = [line.removeprefix(f"{path}:") for line in result.stderr.splitlines()]
    assert result.exit_code == (PROBLEMS_FOUND if lines else 0), result.output
    assert "Traceback" not in result.output
    return lines


BAD = [
    (
        "      - sum: {table: totals, value: name}\n",
        "24:37: sum needs numbers, but field 'name' of model Order is text",
    ),
    (
        "      - max: {table: totals, value: \"lower(name) + 'x'\"}\n",
        "24:38: max needs numbers, but its value \"lower(name) + 'x'\" is text",
    ),
    (
        "      - map: {double: 'price * 2 - name'}\n",
        "24:36: '-' needs numbers, but field 'name' of model Order is text; "
        "convert it with int() or float()",
    ),
    (
        "      - filter: 'qty + name > 1'\n",
        "24:24: '+' needs numbers, but field 'name' of model Order is text; "
        "convert it with int() or float(), or the other side with str()",
    ),
    (
        "      - filter: \"price > '10'\"\n",
        "24:18: comparing field 'price' (a number) with '10' (text) never holds as meant; "
        "convert one side with str(), int() or float()",
    ),
    (
        "      - filter: 'round(name) == 1'\n",
        "24:24: round() needs a number, but field 'name' of model Order is text; "
        "convert it with int() or float()",
    ),
    (
        "      - filter: 'prce > 1'\n",
        "24:18: unknown field 'prce' (did you mean 'price'?); model Order has: customer, id, "
        "name, price, qty",
    ),
    (
        "      - filter: 'customer.nmae == \"x\"'\n",
        "24:27: unknown field 'nmae' (did you mean 'name'?); model Customer has: name, vip",
    ),
    (  # a computed field is known, with its kind: text here
        "      - map: {label: \"name + '!'\"}\n      - sum: {table: totals, value: label}\n",
        "25:37: sum needs numbers, but field 'label' of the value here is text",
    ),
    (  # a dropped field is gone
        "      - drop: price\n      - filter: 'price > 1'\n",
        "25:18: unknown field 'price'; the value here has: customer, id, name, qty",
    ),
    (  # each branch case starts from what the branch got
        "      - branch:\n"
        "          - when: 'id > 1'\n"
        "            steps: [{keep: [id]}, {to: out}]\n"
        "          - default: true\n"
        "            steps: [{filter: 'name > 1'}, {to: out}]\n",
        "28:31: comparing field 'name' (text) with 1 (a number) never holds as meant; "
        "convert one side with str(), int() or float()",
    ),
]


@pytest.mark.parametrize("steps,problem", BAD, ids=[str(i) for i in range(len(BAD))])
def test_a_type_mistake_is_a_positioned_validate_error(
    tmp_path: Path, steps: str, problem: str
) -> None:
    lines = _validate(tmp_path, steps)
    assert len(lines) == 1 and lines[0].startswith(problem), lines


def test_what_could_work_is_not_refused(tmp_path: Path) -> None:
    steps = (
        "      - filter: \"name + '!' != 'x!' and qty * 2 > 1 and customer.vip\"\n"
        "      - map: {total: 'price * coalesce(qty, 1)', tag: 'name * 2'}\n"
        "      - lookup: {table: products, key: id, as: product}\n"
        "      - filter: 'total > 10 and product.whatever > 1'\n"  # lookup's row: not known
        "      - rename: {total: amount}\n"
        "      - sum: {table: totals, value: amount}\n"
        "      - map: 'amount'\n"  # the value replaced: nothing is known after it
        "      - filter: 'anything > \"text\"'\n"
    )
    assert _validate(tmp_path, steps) == []


def test_without_a_model_nothing_is_checked(tmp_path: Path) -> None:
    steps = "      - filter: \"name - 1 > '1'\"\n      - sum: {table: totals, value: name}\n"
    assert _validate(tmp_path, steps, topic="plain") == []
