"""schemas/pipeline.schema.json: generated from the loader's declarations, committed, current (#13)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from support import ROOT, cli

from streamctl.pipeline import check_pipeline
from streamctl.pipeline.keys import (
    AGENT_KEYS,
    SETTINGS_KEYS,
    TABLE_KEYS,
    TOPIC_KEYS,
    WINDOW_KEYS,
)
from streamctl.pipeline.steps import BUILTIN_STEPS

SCHEMA_FILE = ROOT / "schemas" / "pipeline.schema.json"
TEST_SCHEMA_FILE = ROOT / "schemas" / "pipeline-test.schema.json"


_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class Yaml12Loader(yaml.SafeLoader):
    """YAML 1.2's booleans (only true/false) and no timestamp type, as editors' YAML
    language server reads files: PyYAML's 1.1 reads the key ``on`` of ``emit: {on:
    close}`` as True and ``2026-12-07T10:00:00Z`` as a datetime."""


Yaml12Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag not in ("tag:yaml.org,2002:bool", _TIMESTAMP)]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA_FILE.read_text()))


def test_the_committed_schema_is_current_and_check_says_so(tmp_path: Path) -> None:
    result = cli("schema", "pipeline")
    assert result.exit_code == 0
    assert result.stdout == SCHEMA_FILE.read_text()
    ok = cli("schema", "pipeline", "--check", SCHEMA_FILE)
    assert (ok.exit_code, ok.stdout.strip()) == (0, f"{SCHEMA_FILE} is current")
    stale = tmp_path / "pipeline.schema.json"
    stale.write_text(SCHEMA_FILE.read_text().replace('"partitions"', '"partitionz"', 1))
    bad = cli("schema", "pipeline", "--check", stale)
    assert bad.exit_code == 1
    assert f"run: streamctl schema pipeline --out {stale}" in bad.stderr
    missing = cli("schema", "pipeline", "--check", tmp_path / "missing.json")
    assert missing.exit_code == 2
    assert missing.stderr.count("\n") == 1 and "missing.json: cannot read it" in missing.stderr
    written = tmp_path / "out.json"
    assert cli("schema", "pipeline", "--out", written).exit_code == 0
    assert written.read_text() == SCHEMA_FILE.read_text()


def test_the_test_file_schema_is_current_and_takes_what_streamctl_test_takes(
    tmp_path: Path,
) -> None:
    result = cli("schema", "pipeline", "--tests")
    assert result.stdout == TEST_SCHEMA_FILE.read_text()
    ok = cli("schema", "pipeline", "--tests", "--check", TEST_SCHEMA_FILE)
    assert ok.exit_code == 0
    assert cli("schema", "pipeline", "--tests", "--check", SCHEMA_FILE).exit_code == 1
    schema = json.loads(TEST_SCHEMA_FILE.read_text())
    Draft202012Validator.check_schema(schema)
    pipeline = json.loads(SCHEMA_FILE.read_text())
    assert schema["$defs"]["test"] == pipeline["$defs"]["test"]  # one declaration
    tests = yaml.load((ROOT / "pipelines" / "router.yaml").read_text(), Loader=Yaml12Loader)
    check = Draft202012Validator(schema)
    assert list(check.iter_errors({"tests": tests["tests"]})) == []
    assert list(check.iter_errors({"app": "x", "tests": []}))


def test_the_schema_is_draft_2020_12_and_names_every_step_with_its_own_schema() -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    steps = schema["$defs"]["step"]["properties"]
    assert sorted(steps) == sorted(BUILTIN_STEPS)
    from streamctl.pipeline.steps import step_class

    for name, sub in steps.items():
        cls = step_class(name)
        assert cls is not None and cls.schema, f"step {name} declares no schema"
        assert {k: v for k, v in sub.items() if k != "description"} == {
            k: v for k, v in json.loads(json.dumps(cls.schema)).items() if k != "description"
        } or name == "branch"
        assert sub["description"]


@pytest.mark.parametrize("path", sorted((ROOT / "pipelines").glob("*.yaml")), ids=lambda p: p.name)
def test_every_example_pipeline_is_valid_under_the_schema(path: Path) -> None:
    if path.name.endswith("_test.yaml"):
        return
    data = yaml.load(path.read_text(), Loader=Yaml12Loader)
    errors = [f"{list(e.path)}: {e.message}" for e in validator().iter_errors(data)]
    assert errors == []


@pytest.mark.parametrize(
    "doc, where",
    [
        ({"app": "x", "topix": {}}, []),
        ({"topics": {}}, []),
        ({"app": "x", "topics": {"a": {"partitions": 0}}}, ["topics", "a", "partitions"]),
        ({"app": "x", "agents": {"f": {"from": "a", "steps": [{"filtr": "x"}]}}}, None),
        ({"app": "x", "agents": {"f": {"from": "a", "steps": [{"lookup": {"as": "p"}}]}}}, None),
        ({"app": "x", "tables": {"t": {"window": {"tumbling": "1 fortnight"}}}}, None),
        ({"app": "x", "tests": [{"input": {}}]}, ["tests", 0]),
        ({"app": "a b/c"}, ["app"]),
        ({"app": ""}, ["app"]),
        (
            {"app": "x", "tests": [{"name": "t", "input": {"a": [{"value": 1, "timestamp": -5}]}}]},
            None,
        ),
    ],
)
def test_the_schema_refuses_what_the_loader_refuses(doc: dict[str, Any], where: Any) -> None:
    errors = list(validator().iter_errors(doc))
    assert errors
    if where is not None:
        assert {tuple(e.path) for e in errors} == {tuple(where)}


def _wrong_value(schema: dict[str, Any]) -> Any:
    """A value of a JSON type the declaration does not allow."""
    types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    for candidate, kind in ((["a", "list"], "array"), ("text", "string"), ({"a": 1}, "object")):
        if kind not in types and not ("string" in types and kind == "string"):
            return candidate
    raise AssertionError(schema)


def _cases() -> list[tuple[str, str, Any]]:
    """(section, key, bad value) for each declared key the checker reads by its type."""
    out = []
    for section, decl in (
        ("topic", TOPIC_KEYS),
        ("agent", AGENT_KEYS),
        ("table", TABLE_KEYS),
        ("settings", SETTINGS_KEYS),
        ("window", WINDOW_KEYS),
    ):
        for key, schema in decl.items():
            if "type" in schema:
                out.append((section, key, _wrong_value(schema)))
    return out


@pytest.mark.parametrize("section, key, bad", _cases(), ids=lambda x: str(x))
def test_the_loader_refuses_a_value_of_a_type_the_declaration_does_not_allow(
    tmp_path: Path, section: str, key: str, bad: Any
) -> None:
    """The declarations the schema is generated from are the ones the checker applies:
    a wrong type for any declared key is a problem at that key, from validate too."""
    base: dict[str, Any] = {
        "app": "x",
        "topics": {"a": {}, "b": {}},
        "tables": {"t": {"default": "int"}},
        "agents": {"f": {"from": "a", "steps": [{"count": "t"}]}},
    }
    if section == "topic":
        base["topics"]["a"][key] = bad
    elif section == "agent":
        base["agents"]["f"][key] = bad
    elif section == "table":
        base["tables"]["t"][key] = bad
    elif section == "settings":
        base["settings"] = {key: bad}
    else:
        base["tables"]["w"] = {"default": "int", "window": {"tumbling": 60, key: bad}}
    path = tmp_path / "p.yaml"
    text = yaml.safe_dump(base, default_flow_style=None)
    path.write_text(text)
    problems = [p for p in check_pipeline(path) if not p.warning]
    line = next(n for n, t in enumerate(text.splitlines(), 1) if re.search(rf"\b{key}:", t))
    assert any(p.line == line for p in problems), (key, text, problems)


def test_readme_names_the_schema_for_editors() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "# yaml-language-server: $schema=" in readme
    assert "schemas/pipeline.schema.json" in readme


def test_the_declared_setting_defaults_are_the_engine_defaults() -> None:
    """An editor's hover shows the default a worker really uses."""
    from streamctl.settings import Settings

    engine = Settings("x")
    for key, schema in SETTINGS_KEYS.items():
        if "default" in schema:
            assert schema["default"] == getattr(engine, key), key


def test_schema_out_creates_its_folder_and_an_unwritable_path_is_one_line(tmp_path: Path) -> None:
    written = tmp_path / "schemas" / "pipeline.schema.json"
    assert cli("schema", "pipeline", "--out", written).exit_code == 0
    assert json.loads(written.read_text())["$schema"].endswith("2020-12/schema")
    bad = cli("schema", "pipeline", "--out", tmp_path)
    assert bad.exit_code == 2
    assert bad.stderr.splitlines() == [f"error: --out {tmp_path}: cannot write it: Is a directory"]


_BASE = """\
app: agree
topics:
  orders: {partitions: 1}
  out: {partitions: 1}
models:
  Order:
    fields:
      qty: FIELD
tables:
  revenue: {default: DEFAULT}
agents:
  fw: {from: orders, steps: [{to: out}]}
tests:
  - name: t
    input: {orders: [{value: {qty: 1}}]}
EXPECT"""
_GOOD = {
    "FIELD": "{type: int, min: 1}",
    "DEFAULT": "float",
    "EXPECT": "    expect: {tables: {revenue: {match: subset, rows: {}}}}\n",
}


@pytest.mark.parametrize(
    "part, text",
    [
        ("FIELD", "{type: integer}"),
        ("FIELD", "integer"),
        ("FIELD", "{type: int, min: '1'}"),
        ("FIELD", "{type: str, min_length: -1}"),
        ("DEFAULT", "floaty"),
        ("DEFAULT", "Integer"),
        ("EXPECT", ""),
        ("EXPECT", "    expect: {}\n"),
        ("EXPECT", "    expect: {tables: {revenue: {match: fuzzy, rows: {}}}}\n"),
    ],
)
def test_the_schema_and_the_loader_agree_on_fields_defaults_and_expect(
    tmp_path: Path, part: str, text: str
) -> None:
    def both(parts: dict[str, str]) -> tuple[list[str], list[str]]:
        doc = _BASE
        for k, v in parts.items():
            doc = doc.replace(k, v)
        path = tmp_path / "agree.yaml"
        path.write_text(doc)
        data = yaml.load(doc, Loader=Yaml12Loader)
        schema = [e.message for e in validator().iter_errors(data)]
        loader = [str(p) for p in check_pipeline(path) if not p.warning]
        tested = cli("test", path)
        if tested.exit_code == 2:
            loader.append(tested.stderr)
        return schema, loader

    assert both(_GOOD) == ([], [])
    schema, loader = both({**_GOOD, part: text})
    assert schema, "the schema takes it"
    assert loader, "the loader takes it"


def test_a_model_name_starts_with_a_capital_letter(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("app: m\nmodels:\n  order: {fields: {qty: int}}\n")
    (problem,) = check_pipeline(path)
    assert str(problem).startswith(
        f"{path}:3:3: model name 'order' must start with a capital letter"
    )
