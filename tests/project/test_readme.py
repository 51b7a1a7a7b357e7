"""The README's examples run as written."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

from support import ROOT, cli

README = (ROOT / "README.md").read_text()


def test_python_api_example_runs_and_its_test_context_passes(tmp_path: Path) -> None:
    code = re.search(r"```python\n(import streamctl.*?)```", README, re.S).group(1)  # type: ignore[union-attr]
    code = code.replace('broker="local://")', f'broker="local://", datadir={str(tmp_path)!r})')
    code = code.replace('if __name__ == "__main__":', "if False:")
    ns: dict = {}
    exec(compile(code, "README.md", "exec"), ns)  # the README's own code, on purpose
    test = re.search(r"```python\n(async with process.*?)```", README, re.S).group(1)  # type: ignore[union-attr]
    body = "async def check():\n" + "\n".join("    " + line for line in test.splitlines())
    exec(compile(body, "README.md", "exec"), ns)
    asyncio.run(ns["check"]())
    assert dict(ns["revenue"].items()) == {"ada": 160.0}


def test_pipeline_example_validates_and_runs(tmp_path: Path) -> None:
    text = re.search(r"```yaml\n(app: revenue.*?)```", README, re.S).group(1)  # type: ignore[union-attr]
    pipeline = tmp_path / "readme.yaml"
    pipeline.write_text(text)
    assert cli("validate", pipeline).exit_code == 0
    sales = ROOT / "pipelines" / "data" / "sales.jsonl"
    data = tmp_path / "data"
    assert cli("send", "sales", "-p", pipeline, "-d", data, "--file", sales).exit_code == 0
    assert cli("run", pipeline, "-d", data, "--until-idle").exit_code == 0
    expected: dict[str, int] = {}
    for line in sales.read_text().splitlines():
        sale = json.loads(line)
        if sale["quantity"] > 0:
            expected[sale["customer"]] = expected.get(sale["customer"], 0) + 1
    dump = cli("table", "dump", pipeline, "orders_per_customer", "-d", data)
    assert dump.exit_code == 0
    assert json.loads(dump.stdout) == expected
