"""JSON Schema export: deterministic text, files on disk, staleness, and agreement with loading."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Optional

import pytest
from jsonschema import Draft202012Validator

from streamctl.exceptions import DecodeError
from streamctl.models import (
    BytesField,
    DecimalField,
    IntegerField,
    Record,
    StringField,
    ValidationError,
    dump_schema,
    model_json_schema,
    stale_schemas,
    write_schemas,
)
from streamctl.models.schema import schema_validator, validate_data


class Colour(Enum):
    RED = "red"
    BLUE = "blue"


class Tag(Record, namespace="schema.Tag", validation=True):
    name: str = StringField(max_length=10)


class Thing(Record, namespace="schema.Thing", validation=True, isodates=True, decimals=True):
    """A thing, documented."""

    id: int = IntegerField(min_value=0)
    label: str = StringField(pattern="^[a-z]+$")
    price: Decimal = DecimalField(max_digits=5, decimal_places=2)
    when: datetime
    tags: list[Tag] = []
    colour: Colour = Colour.RED
    raw: Optional[bytes] = BytesField(required=False, allow_blank=True)  # noqa: UP045
    ratio: Optional[float] = None  # noqa: UP045
    parent: Optional[Thing] = None  # noqa: UP045


def test_schema_shape():
    s = model_json_schema(Thing)
    assert s["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert s["$id"] == "urn:streamctl:model:schema.Thing"
    assert s["title"] == "Thing" and s["description"] == "A thing, documented."
    assert s["required"] == ["id", "label", "price", "when"]
    props = s["properties"]
    assert props["id"] == {"type": "integer", "minimum": 0}
    assert props["label"] == {"type": "string", "pattern": "^[a-z]+$", "minLength": 1}
    assert props["when"] == {"type": "string", "format": "date-time"}
    assert props["tags"] == {"type": "array", "items": {"$ref": "#/$defs/Tag"}, "default": []}
    assert props["colour"] == {"enum": ["red", "blue"], "default": "red"}
    assert props["raw"]["type"] == ["string", "null"]
    assert props["parent"] == {
        "anyOf": [{"$ref": "#/$defs/Thing"}, {"type": "null"}],
        "default": None,
    }
    assert set(s["$defs"]) == {"Tag", "Thing"}
    assert "__faust" in props and s["additionalProperties"] is True
    Draft202012Validator.check_schema(s)


def test_dump_is_deterministic_and_sorted():
    text = dump_schema(Thing)
    assert text == dump_schema(Thing) and text.endswith("}\n")
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def test_write_and_stale(tmp_path):
    models = {"Thing": Thing, "Tag": Tag}
    assert stale_schemas(models, tmp_path) == ["Tag", "Thing"]
    paths = write_schemas(models, tmp_path)
    assert [p.name for p in paths] == ["Tag.schema.json", "Thing.schema.json"]
    assert stale_schemas(models, tmp_path) == []
    (tmp_path / "Tag.schema.json").write_text("{}\n")
    assert stale_schemas(models, tmp_path) == ["Tag"]


def test_validator_is_cached():
    assert schema_validator(Thing) is schema_validator(Thing)


GOOD = {"id": 1, "label": "abc", "price": "12.50", "when": "2024-01-01T00:00:00+00:00"}

CASES = [
    {},
    {"id": -1},
    {"id": "1x"},
    {"id": True},
    {"label": "ABC"},
    {"label": ""},
    {"price": "1234.5"},
    {"price": "1.234"},
    {"price": 1.5},
    {"tags": [{"name": "x" * 11}]},
    {"tags": [{"name": ""}]},
    {"tags": "x"},
    {"colour": "green"},
    {"ratio": None},
    {"ratio": 0.5},
    {"parent": {**GOOD, "id": -5}},
    {"parent": None},
    {"extra": 1},
    {"__faust": {"ns": "schema.Thing"}},
]


@pytest.mark.parametrize("change", CASES, ids=lambda c: json.dumps(c)[:40])
def test_schema_and_loading_agree_on_canonical_data(change):
    data = {**GOOD, **change}
    schema_ok = not list(schema_validator(Thing).iter_errors(data))
    try:
        Thing.from_data(json.loads(json.dumps(data)))
        load_ok = True
    except DecodeError:
        load_ok = False
    assert schema_ok == load_ok


def test_emitted_data_validates():
    t = Thing.from_data({**GOOD, "tags": [{"name": "a"}], "raw": "aGk=", "parent": GOOD})
    validate_data(Thing, json.loads(t.dumps()))


def test_schema_errors_become_one_clear_message():
    with pytest.raises(ValidationError) as info:
        validate_data(Thing, {**GOOD, "tags": [{"name": "x" * 200}]})
    err = info.value
    assert err.field == "tags[0].name"
    assert "maxLength" in err.rule and len(str(err)) < 200
    with pytest.raises(ValidationError, match=r"Thing.label: is required"):
        validate_data(Thing, {k: v for k, v in GOOD.items() if k != "label"})
