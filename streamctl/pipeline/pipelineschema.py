"""The JSON Schema (Draft 2020-12) of a pipeline file, built from the loader's own declarations.

Sections and keys come from :mod:`streamctl.pipeline.keys` (what the checker reads),
each step's argument from its ``Step.schema`` through the step registry, model
definitions from :mod:`streamctl.models.definitions` and
:mod:`streamctl.models.yamlfields`, and a test from
:data:`streamctl.pipeline.testschema.TEST_SCHEMA`. ``schemas/pipeline.schema.json`` is
:func:`render` of :func:`pipeline_schema`, regenerated with ``streamctl schema
pipeline --out schemas/pipeline.schema.json`` and checked current by a test (and
:func:`test_file_schema`, for ``NAME_test.yaml`` files, with ``--tests``). Editors
with the YAML language server read it from a first line
``# yaml-language-server: $schema=<path or URL of the file>``.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from streamctl.pipeline.keys import (
    AGENT_KEYS,
    EMIT_KEYS,
    SETTINGS_KEYS,
    TABLE_KEYS,
    TOP_KEYS,
    TOPIC_KEYS,
    WINDOW_KEYS,
    Decl,
)

DRAFT = "https://json-schema.org/draft/2020-12/schema"
_NAMES = {"pattern": "^[A-Za-z0-9._-]+$"}


def _obj(decl: Decl, **override: Any) -> dict[str, Any]:
    props = {k: copy.deepcopy(v) for k, v in decl.items()}
    props.update(override)
    return {"type": "object", "properties": props, "additionalProperties": False}


def _named(ref: str, description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "propertyNames": _NAMES,
        "additionalProperties": {"$ref": f"#/$defs/{ref}"},
    }


def step_schemas(*, plugins: bool = False) -> dict[str, Any]:
    """Each step kind's argument schema, with the first line of its docstring as the
    description: the built-in steps, and with ``plugins`` the installed
    ``streamctl.steps`` entry points too (a step without a schema takes anything)."""
    from streamctl.pipeline.catalog import summary
    from streamctl.pipeline.steps import BUILTIN_STEPS, known_steps, step_class

    names = known_steps() if plugins else sorted(BUILTIN_STEPS)
    out: dict[str, Any] = {}
    for name in names:
        cls = step_class(name)
        if cls is None:
            continue
        schema = copy.deepcopy(cls.schema) or {}
        schema.setdefault("description", summary(cls.__doc__, 400))
        out[name] = schema
    branch = out.get("branch")
    if branch is not None:  # a case's steps are steps
        branch["items"]["properties"]["steps"] = {
            "type": "array",
            "items": {"$ref": "#/$defs/step"},
        }
    return out


def _model_defs() -> dict[str, Any]:
    from streamctl.models.definitions import MODEL_KEYS, OPTION_KEYS
    from streamctl.models.yamlfields import FIELD_SCHEMA

    py = {str: "string", bool: "boolean"}
    props: dict[str, Any] = {k: copy.deepcopy(v) for k, v in sorted(FIELD_SCHEMA.items())}
    field = {
        "oneOf": [
            {
                **FIELD_SCHEMA["type"],
                "description": "a type: int, str, list[T], T?, a model (CapWords), ...",
            },
            {
                "type": "object",
                "required": ["type"],
                "properties": props,
                "additionalProperties": False,
            },
        ]
    }
    model: dict[str, Any] = {
        "type": "object",
        "properties": {
            "fields": {"type": "object", "additionalProperties": {"$ref": "#/$defs/field"}},
            "options": {
                "type": "object",
                "properties": {k: {"type": py[t]} for k, t in sorted(OPTION_KEYS.items())},
                "additionalProperties": False,
            },
            "description": {"type": "string"},
        },
        "additionalProperties": False,
    }
    assert set(model["properties"]) == set(MODEL_KEYS)  # a new model key needs a schema here
    return {"model": model, "field": field}


def pipeline_schema(*, plugins: bool = False) -> dict[str, Any]:
    """The schema of a whole pipeline file (a dict; see :func:`render`)."""
    from streamctl.pipeline.testschema import TEST_SCHEMA

    steps = step_schemas(plugins=plugins)
    step = {
        "type": "object",
        "description": "one step: a mapping with one key, the step kind",
        "minProperties": 1,
        "maxProperties": 1,
        "properties": steps,
        "additionalProperties": False,
    }
    agent = _obj(AGENT_KEYS, steps={**AGENT_KEYS["steps"], "items": {"$ref": "#/$defs/step"}})
    agent["required"] = ["from"]
    from streamctl.pipeline.tables import DEFAULT_SCHEMA

    table = _obj(
        TABLE_KEYS,
        window={"$ref": "#/$defs/window"},
        emit={"$ref": "#/$defs/emit"},
        default=copy.deepcopy(DEFAULT_SCHEMA),
    )
    top = _obj(
        TOP_KEYS,
        settings={**_obj(SETTINGS_KEYS), "description": TOP_KEYS["settings"]["description"]},
        topics=_named("topic", "topics by name"),
        tables=_named("table", "tables by name"),
        agents=_named("agent", "agents by name"),
        models={
            "description": TOP_KEYS["models"]["description"],
            "oneOf": [
                {"type": "string"},
                {"type": "object", "additionalProperties": {"$ref": "#/$defs/model"}},
            ],
        },
        tests={**TOP_KEYS["tests"], "items": {"$ref": "#/$defs/test"}},
    )
    return {
        "$schema": DRAFT,
        "title": "streamctl pipeline file",
        "description": "A streamctl pipeline: its app, broker, topics, tables, models, "
        "agents and their steps, and its unit tests.",
        **top,
        "required": ["app"],
        "$defs": {
            "topic": _obj(TOPIC_KEYS),
            "table": table,
            "window": _obj(WINDOW_KEYS),
            "emit": _obj(EMIT_KEYS),
            "agent": agent,
            "step": step,
            "test": copy.deepcopy(TEST_SCHEMA),
            **_model_defs(),
        },
    }


def test_file_schema() -> dict[str, Any]:
    """The schema of a ``NAME_test.yaml`` file: ``tests:`` only, each test as in a
    pipeline file (``schemas/pipeline-test.schema.json``)."""
    from streamctl.pipeline.testschema import TEST_SCHEMA

    return {
        "$schema": DRAFT,
        "title": "streamctl pipeline test file",
        "description": "Unit tests of the pipeline NAME.yaml beside this NAME_test.yaml, "
        "run by `streamctl test`.",
        "type": "object",
        "required": ["tests"],
        "properties": {"tests": {**TOP_KEYS["tests"], "items": {"$ref": "#/$defs/test"}}},
        "additionalProperties": False,
        "$defs": {"test": copy.deepcopy(TEST_SCHEMA)},
    }


def render(schema: dict[str, Any]) -> str:
    """The schema as the committed file holds it: sorted keys, two-space indent, a newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
