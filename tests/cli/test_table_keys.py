"""``streamctl table set/del`` put a key where the stream puts it (#9 §2), for step
pipelines and plugin agents, text and number keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import cli

STEPS = """
app: kc{n}
topics:
  words: {{partitions: 4, key_type: {key_type}}}
tables:
  counts: {{default: int, partitions: 4, key_type: {key_type}}}
agents:
  count:
    from: words
    steps:
      - count: counts
"""
PLUGIN = """
app: kc{n}
topics:
  words: {{partitions: 4, key_type: {key_type}}}
tables:
  counts: {{default: int, partitions: 4, key_type: {key_type}}}
agents:
  count:
    from: words
    use: {module}:count
"""
AGENT = """
async def count(stream):
    counts = stream.app.tables["counts"]
    async for key, _ in stream.items():
        counts[key] += 1
"""


@pytest.mark.parametrize("writer", ["steps", "plugin"])
@pytest.mark.parametrize(("key_type", "keys"), [("str", ["zed", "ada", "k"]), ("int", [7, 8, 9])])
def test_table_set_then_stream_counts_one_key_once(
    tmp_path: Path, writer: str, key_type: str, keys: list[object]
) -> None:
    module = f"kcagent_{writer}_{key_type}"
    (tmp_path / f"{module}.py").write_text(AGENT)
    text = STEPS if writer == "steps" else PLUGIN
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(text.format(n=len(keys), key_type=key_type, module=module))
    data = tmp_path / "data"
    for k in keys:
        for _ in range(3):
            assert cli("send", "words", "{}", "-k", k, "-p", pipeline, "-d", data).exit_code == 0
    assert cli("run", pipeline, "-d", data, "--until-idle").exit_code == 0
    for k in keys:
        assert cli("table", "set", pipeline, "counts", k, "10", "-d", data).exit_code == 0
    for k in keys:
        assert cli("send", "words", "{}", "-k", k, "-p", pipeline, "-d", data).exit_code == 0
    assert cli("run", pipeline, "-d", data, "--until-idle").exit_code == 0
    for k in keys:
        got = cli("table", "get", pipeline, "counts", k, "-d", data)
        assert (got.exit_code, got.stdout.strip()) == (0, "11")
    dump = cli("table", "dump", pipeline, "counts", "-d", data, "--format", "jsonl")
    rows = [json.loads(line) for line in dump.stdout.splitlines()]
    assert sorted(rows, key=str) == sorted(({"key": k, "value": 11} for k in keys), key=str)
    # a delete reaches the one copy: the key is gone everywhere
    assert cli("table", "del", pipeline, "counts", keys[0], "-d", data).exit_code == 0
    gone = cli("table", "get", pipeline, "counts", keys[0], "-d", data)
    assert gone.exit_code == 1


def test_keys_that_look_like_json_find_the_text_keys_a_stream_wrote(tmp_path: Path) -> None:
    module = "kcagent_text"
    (tmp_path / f"{module}.py").write_text(AGENT)
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(
        "app: wct\ntopics:\n  words: {partitions: 2}\ntables:\n  counts: {default: int, "
        f"partitions: 2}}\nagents:\n  count:\n    from: words\n    use: {module}:count\n"
    )
    data = tmp_path / "data"
    for k in ["2024", "true", "hello", "2024"]:
        assert cli("send", "words", "{}", "-k", k, "-p", pipeline, "-d", data).exit_code == 0
    assert cli("run", pipeline, "-d", data, "--until-idle").exit_code == 0
    got = cli("table", "get", pipeline, "counts", "2024", "-d", data)
    assert (got.exit_code, got.stdout.strip()) == (0, "2")
    assert cli("table", "set", pipeline, "counts", "true", "7", "-d", data).exit_code == 0
    assert cli("table", "del", pipeline, "counts", "hello", "-d", data).exit_code == 0
    dump = cli("table", "dump", pipeline, "counts", "-d", data)
    assert json.loads(dump.stdout) == {"2024": 2, "true": 7}


@pytest.mark.parametrize("kind", ["steps", "plugin"])
def test_keys_that_parse_as_json_are_the_text_keys_a_pipeline_stream_writes(
    tmp_path: Path, kind: str
) -> None:
    """A pipeline's topics carry text keys, so `table set/get/del 2024` mean the text
    "2024" the stream writes: no traceback for a number, no second key for a JSON-looking one."""
    (tmp_path / "pa_json_keys.py").write_text(
        "async def count(stream):\n"
        "    counts = stream.app.tables['counts']\n"
        "    async for key, value in stream.items():\n"
        "        counts[key] += 1\n"
    )
    agent = "steps: [{count: counts}]" if kind == "steps" else 'use: "pa_json_keys:count"'
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(
        f"app: jk-{kind}\ntopics: {{ev: {{partitions: 2}}}}\n"
        f"tables: {{counts: {{default: int}}}}\nagents:\n  cnt: {{from: ev, {agent}}}\n"
    )
    data = ["-d", str(tmp_path / "data")]
    keys = ["2024", "true", '"q"', "null", "1.50", "[1]"]
    for key in keys:
        assert cli("table", "set", pipeline, "counts", key, "5", *data).exit_code == 0
        assert cli("send", "ev", '{"a": 1}', "--key", key, "-p", pipeline, *data).exit_code == 0
    assert cli("run", pipeline, "--until-idle", *data).exit_code == 0
    dumped = json.loads(cli("table", "dump", pipeline, "counts", *data).stdout)
    assert dumped == dict.fromkeys(keys, 6)
    got = cli("table", "get", pipeline, "counts", "2024", *data)
    assert (got.exit_code, json.loads(got.stdout)) == (0, 6)
    assert cli("table", "del", pipeline, "counts", "null", *data).exit_code == 0
    assert "null" not in json.loads(cli("table", "dump", pipeline, "counts", *data).stdout)
