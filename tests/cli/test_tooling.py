"""``streamctl init``, ``plugins`` and ``echo`` (#13)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from support import cli

from streamctl.pipeline.steps import BUILTIN_STEPS


def test_init_scaffolds_a_pipeline_that_validates_and_passes_its_tests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli("init", "shop")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "wrote shop/shop.yaml",
        "wrote shop/shop_test.yaml",
        "wrote shop/data/shop.jsonl",
        "wrote shop/pipeline.schema.json",
        "wrote shop/pipeline-test.schema.json",
        "next: streamctl test shop/shop.yaml",
    ]
    text = (tmp_path / "shop" / "shop.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=pipeline.schema.json\n")
    assert "app: shop\n" in text and "models:" in text and "steps:" in text
    assert cli("validate", "shop").exit_code == 0
    tested = cli("test", "shop", "-f", "json")
    assert tested.exit_code == 0, tested.output
    assert json.loads(tested.stdout)["passed"] == 2
    # the sample input runs too: send it and run until idle
    sent = cli("send", "shop-orders", "-p", "shop/shop.yaml", "--file", "shop/data/shop.jsonl")
    assert sent.exit_code == 0, sent.output


def test_init_writes_nothing_over_existing_files_and_refuses_a_bad_app_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "shop_test.yaml").write_text("mine\n")
    refused = cli("init", "shop")
    assert refused.exit_code == 2
    assert refused.stderr.strip() == (
        "error: shop/shop_test.yaml exists already; init writes only new files"
    )
    assert sorted(p.name for p in (tmp_path / "shop").iterdir()) == ["shop_test.yaml"]
    assert (tmp_path / "shop" / "shop_test.yaml").read_text() == "mine\n"
    bad = cli("init", "my shop")
    assert bad.exit_code == 2 and "NAME is a new folder's name" in bad.stderr
    # '..' would fill the parent folder, x.yaml would write x.yaml/x.yaml.yaml, a path
    # names another folder: each is one line and exit 2, and nothing is written
    (tmp_path / "inner").mkdir()
    monkeypatch.chdir(tmp_path / "inner")
    for name in ("..", "x.yaml", "sub/shop", str(tmp_path / "abs"), "../up"):
        refused = cli("init", name)
        assert refused.exit_code == 2, name
        assert refused.stderr.count("\n") == 1 and "NAME is a new folder" in refused.stderr
    assert list((tmp_path / "inner").iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inner", "shop"]
    here = tmp_path / "cafe"
    here.mkdir()
    monkeypatch.chdir(here)
    assert cli("init").exit_code == 0
    assert (here / "cafe.yaml").is_file()


def test_plugins_lists_the_built_ins_with_package_version_and_doc() -> None:
    result = cli("plugins", "-f", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    steps = {r["name"]: r for r in rows if r["kind"] == "step"}
    assert sorted(steps) == sorted(BUILTIN_STEPS)
    assert steps["filter"]["package"] == "streamctl"
    assert (
        steps["filter"]["doc"]
        == "`filter: expr`: keep the events for which the expression is true."
    )
    kinds = {r["kind"] for r in rows}
    assert kinds == {"agent", "step", "codec", "transport", "store"}
    assert {"forward", "log"} <= {r["name"] for r in rows if r["kind"] == "agent"}
    assert {"local", "kafka", "memory"} <= {r["name"] for r in rows if r["kind"] == "transport"}
    table = cli("plugins", "--kind", "store")
    assert table.stdout.splitlines()[0].split() == ["kind", "name", "package", "version", "doc"]
    assert [line.split()[1] for line in table.stdout.splitlines()[2:]] == ["memory", "sqlite"]


def test_plugins_and_the_schema_show_an_installed_step_plugin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = tmp_path / "shout_steps-1.2.3.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: shout-steps\nVersion: 1.2.3\n")
    (dist / "entry_points.txt").write_text("[streamctl.steps]\nshout = shout_steps:Shout\n")
    (tmp_path / "shout_steps.py").write_text(
        "from streamctl.pipeline.steps import Step\n\n\n"
        "class Shout(Step):\n"
        '    """``shout: field``: the field in capitals. More words here."""\n\n'
        '    name = "shout"\n'
        '    schema = {"type": "string"}\n\n'
        "    def build(self):\n"
        "        field = self.arg\n"
        "        return lambda v, k: {**v, field: v[field].upper()}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    rows = json.loads(cli("plugins", "-k", "step", "-f", "json").stdout)
    (shout,) = [r for r in rows if r["name"] == "shout"]
    assert shout == {
        "kind": "step",
        "name": "shout",
        "target": "shout_steps:Shout",
        "package": "shout-steps",
        "version": "1.2.3",
        "doc": "`shout: field`: the field in capitals.",
    }
    with_plugins = json.loads(cli("schema", "pipeline", "--plugins").stdout)
    assert with_plugins["$defs"]["step"]["properties"]["shout"]["type"] == "string"
    assert (
        "shout" not in json.loads(cli("schema", "pipeline").stdout)["$defs"]["step"]["properties"]
    )


ECHOED = """\
app: echoed
broker: ${ECHO_BROKER:-local://}
broker_settings: {}
settings: {topic_partitions: 3}
models: models/m.yaml
topics:
  in: {}
  out: {partitions: 2, dead_letter: bad}
  bad: {}
tables:
  counts: {default: int}
agents:
  count:
    from: out
    steps: [{count: counts}]
    to: in
"""


def test_echo_prints_the_pipeline_with_defaults_filled_in_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "m.yaml").write_text("M:\n  fields: {x: int}\n")
    path = tmp_path / "p.yaml"
    path.write_text(ECHOED)
    monkeypatch.chdir(tmp_path)
    before = sorted(tmp_path.rglob("*"))
    result = cli("echo", path)
    assert result.exit_code == 0, result.output
    doc = yaml.safe_load(result.stdout)
    assert list(doc) == [
        "app", "broker", "datadir", "settings", "broker_settings", "models", "topics",
        "tables", "agents",
    ]  # fmt: skip
    assert doc["broker"] == "local://"
    assert doc["settings"]["topic_partitions"] == 3
    assert doc["settings"]["processing_guarantee"] == "exactly_once"  # local://'s default
    assert doc["settings"]["max_poll_records"] == 5000
    assert doc["models"] == {"M": {"fields": {"x": "int"}}}
    assert doc["topics"]["in"]["partitions"] == 3  # topic_partitions
    assert doc["topics"]["in"]["on_error"] == "stop"
    assert doc["topics"]["out"] == {
        "partitions": 2,
        "compacting": False,
        "key_type": "str",
        "value_type": "json",
        "key_serializer": "raw",
        "value_serializer": "json",
        "dead_letter": "bad",
        "on_error": "dead_letter",
        "internal": False,
        "config": {},
    }
    assert doc["tables"]["counts"]["partitions"] == 2  # like the stream that writes it
    assert doc["tables"]["counts"]["changelog_topic"] == "echoed-counts-changelog"
    assert doc["agents"]["count"] == {
        "from": "out",
        "steps": [{"count": "counts"}],
        "to": ["in"],
        "concurrency": 1,
        "dead_letter": "bad",
        "on_error": "dead_letter",
    }
    assert json.loads(cli("echo", path, "-f", "json").stdout) == doc
    assert sorted(tmp_path.rglob("*")) == before


def test_echo_expands_the_environment_and_masks_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        ECHOED.replace("models: models/m.yaml\n", "").replace(
            "broker_settings: {}",
            "broker_settings:\n  sasl_plain_password: ${ECHO_PW}\n  sasl_mechanism: PLAIN\n"
            "  security_protocol: SASL_PLAINTEXT",
        )
    )
    monkeypatch.setenv("ECHO_BROKER", "kafka://broker1:9093")
    monkeypatch.setenv("ECHO_PW", "hunter2")
    result = cli("echo", path)
    assert result.exit_code == 0, result.output
    assert "hunter2" not in result.output
    doc = yaml.safe_load(result.stdout)
    assert doc["broker"] == "kafka://broker1:9093"
    assert doc["broker_settings"] == {
        "sasl_plain_password": "***",
        "sasl_mechanism": "PLAIN",
        "security_protocol": "SASL_PLAINTEXT",
    }
    assert doc["settings"]["processing_guarantee"] == "at_least_once"  # Kafka's default


def test_echo_of_a_broken_file_is_one_positioned_line(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    broken = ECHOED.replace("models: models/m.yaml\n", "")
    path.write_text(broken.replace("steps: [{count: counts}]", "steps: [{cont: counts}]"))
    result = cli("echo", path)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path}:14:14: unknown step 'cont'")
    assert len(result.stderr.splitlines()) == 1
