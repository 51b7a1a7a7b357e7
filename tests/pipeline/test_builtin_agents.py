"""The built-in agents ``forward`` and ``log`` (#10: ``log`` prints JSON, not repr)."""

from __future__ import annotations

import json
from pathlib import Path

from support import cli

PIPELINE = """\
app: logged
topics:
  orders: {partitions: 1, value_type: Order}
  copies: {partitions: 1}
models:
  Order:
    fields:
      id: int
      price: decimal
      when: datetime
      tags: set[str]
agents:
  show: {from: orders, use: log, to: copies}
"""


def test_log_agent_prints_key_and_value_as_json(tmp_path: Path) -> None:
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(PIPELINE)
    order = {"id": 1, "price": "9.50", "when": "2024-05-01T12:00:00+00:00", "tags": ["b", "a"]}
    sent = cli("send", "orders", json.dumps(order), "-k", "ada", "-p", pipeline, "-d", tmp_path)
    assert sent.exit_code == 0, sent.output
    run = cli("run", pipeline, "-d", tmp_path, "--until-idle")
    assert run.exit_code == 0, run.output
    line = next(x for x in run.stderr.splitlines() if "orders[0]@0" in x)
    logged = line.split("orders[0]@0 ", 1)[1]
    key, value = logged.split(" value=", 1)
    assert key == 'key="ada"'
    assert json.loads(value) == {
        "id": 1,
        "price": "9.50",
        "when": "2024-05-01T12:00:00+00:00",
        "tags": ["a", "b"],
    }
    # forwarded as written by a YAML model: no Faust metadata for other consumers
    tail = cli("topic", "tail", "copies", "-p", pipeline, "-d", tmp_path)
    assert "__faust" not in tail.stdout
    assert json.loads(tail.stdout)["value"]["id"] == 1
