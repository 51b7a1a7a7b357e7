"""build_models: YAML type syntax and every definition mistake reported with its key path."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any, Optional

import pytest

from streamctl.exceptions import ConfigurationError
from streamctl.models import ModelDefinitionError, Record, build_models, registry
from streamctl.models.definitions import parse_type_expr


@pytest.fixture(autouse=True)
def _restore_registry():
    saved = dict(registry)
    yield
    registry.clear()
    registry.update(saved)


def test_types_map_to_python_annotations():
    models = build_models(
        {
            "Line": {"fields": {"sku": "str"}},
            "Doc": {
                "fields": {
                    "a": "int",
                    "b": "float",
                    "c": "bool",
                    "d": "bytes",
                    "e": "decimal",
                    "f": "datetime",
                    "g": "list[Line]",
                    "h": "dict[str, list[int]]",
                    "i": "int?",
                    "j": "Optional[Line]",
                    "k": "set[str]",
                    "l": "any",
                }
            },
        },
        namespace_prefix="defs.",
    )
    fields = models["Doc"]._options.fields
    Line = models["Line"]
    assert fields["a"] is int and fields["e"] is Decimal and fields["f"] is datetime
    assert fields["g"] == list[Line]
    assert fields["h"] == dict[str, list[int]]
    assert fields["i"] == Optional[int]  # noqa: UP045
    assert fields["j"] == Optional[Line]  # noqa: UP045
    assert fields["l"] is Any
    assert issubclass(models["Doc"], Record)
    assert models["Doc"]._options.namespace == "defs.Doc"
    assert registry["defs.Line"] is Line


def test_models_may_refer_forward():
    models = build_models({"A": {"fields": {"b": "B"}}, "B": {"fields": {"x": "int"}}})
    assert models["A"](b={"x": 1}).b == models["B"](1)
    assert list(models) == ["A", "B"]


def test_yaml_defaults_parse_dates_and_decimals_and_options_apply():
    models = build_models(
        {
            "E": {
                "options": {"serializer": "json", "include_metadata": False},
                "fields": {"t": "datetime", "p": "decimal"},
            }
        }
    )
    e = models["E"].from_data({"t": "2024-01-01T00:00:00", "p": "1.5"})
    assert e.t == datetime(2024, 1, 1) and e.p == Decimal("1.5")
    assert "__faust" not in e.to_representation()


def test_description_becomes_docstring_and_schema_description():
    from streamctl.models import model_json_schema

    models = build_models(
        {"D": {"description": "A thing.", "fields": {"x": {"type": "int", "description": "X!"}}}}
    )
    schema = model_json_schema(models["D"])
    assert schema["description"] == "A thing."
    assert schema["properties"]["x"]["description"] == "X!"


@pytest.mark.parametrize(
    ("defs", "path", "message"),
    [
        (
            {"O": {"fields": {"q": {"type": "str", "min": 1}}}},
            ("O", "fields", "q", "min"),
            "min applies to",
        ),
        (
            {"O": {"fields": {"q": {"type": "int", "min": 5, "max": 1}}}},
            ("O", "fields", "q", "min"),
            "greater than max",
        ),
        (
            {"O": {"fields": {"q": {"type": "int", "min": "1"}}}},
            ("O", "fields", "q", "min"),
            "must be a number",
        ),
        (
            {"O": {"fields": {"q": {"type": "str", "pattern": "("}}}},
            ("O", "fields", "q", "pattern"),
            "does not compile",
        ),
        (
            {"O": {"fields": {"q": {"type": "int", "pattern": "x"}}}},
            ("O", "fields", "q", "pattern"),
            "applies to",
        ),
        (
            {"O": {"fields": {"q": {"type": "str", "min_length": 3, "max_length": 1}}}},
            ("O", "fields", "q", "min_length"),
            "greater",
        ),
        (
            {"O": {"fields": {"q": {"type": "str", "max_length": -1}}}},
            ("O", "fields", "q", "max_length"),
            "non-negative",
        ),
        (
            {"O": {"fields": {"q": {"type": "decimal", "max_digits": 2, "decimal_places": 3}}}},
            ("O", "fields", "q", "decimal_places"),
            "greater",
        ),
        (
            {"O": {"fields": {"q": {"type": "int", "max_digits": 2}}}},
            ("O", "fields", "q", "max_digits"),
            "applies to",
        ),
        (
            {"O": {"fields": {"q": {"type": "int", "enum": []}}}},
            ("O", "fields", "q", "enum"),
            "non-empty",
        ),
        (
            {"O": {"fields": {"q": {"type": "int", "enum": [1, "a"]}}}},
            ("O", "fields", "q", "enum", 1),
            "expected int",
        ),
        (
            {"O": {"fields": {"q": {"type": "int", "default": "a"}}}},
            ("O", "fields", "q", "default"),
            "expected int",
        ),
        (
            {"O": {"fields": {"q": {"type": "int", "min": 1, "default": 0}}}},
            ("O", "fields", "q", "default"),
            "must be >= 1",
        ),
        (
            {"O": {"fields": {"q": {"type": "datetime", "timezone": "Mars/Base"}}}},
            ("O", "fields", "q"),
            "unknown timezone",
        ),
        (
            {"O": {"fields": {"q": {"type": "int", "colour": 1}}}},
            ("O", "fields", "q", "colour"),
            "unknown key",
        ),
        ({"O": {"fields": {"q": {"min": 1}}}}, ("O", "fields", "q"), "needs 'type'"),
        ({"O": {"fields": {"q": "Nope"}}}, ("O", "fields", "q"), "unknown type 'Nope'"),
        (
            {"O": {"fields": {"q": {"type": "list[Nope]"}}}},
            ("O", "fields", "q", "type"),
            "unknown type",
        ),
        ({"O": {"fields": {"q": "list[int"}}}, ("O", "fields", "q"), "expected ',' or ']'"),
        ({"O": {"fields": {"q": "dict[int, str]"}}}, ("O", "fields", "q"), "keys must be str"),
        ({"O": {"fields": {"q": "list"}}}, ("O", "fields", "q"), "needs parameters"),
        ({"O": {"fields": {"q": 5}}}, ("O", "fields", "q"), "type string or a mapping"),
        ({"O": {"fields": {"dumps": "int"}}}, ("O", "fields", "dumps"), "reserved"),
        ({"O": {"fields": {"_x": "int"}}}, ("O", "fields", "_x"), "reserved"),
        ({"O": {"fields": {"not-ok": "int"}}}, ("O", "fields", "not-ok"), "not an identifier"),
        ({"int": {"fields": {}}}, ("int",), "clashes"),
        ({"O": {"fieldz": {}}}, ("O", "fieldz"), "unknown key"),
        ({"O": {}}, ("O",), "'fields' must be a mapping"),
        (
            {"O": {"fields": {}, "options": {"colour": 1}}},
            ("O", "options", "colour"),
            "unknown option",
        ),
        (
            {"O": {"fields": {}, "options": {"validation": "yes"}}},
            ("O", "options", "validation"),
            "must be a bool",
        ),
        (
            {"O": {"fields": {}, "options": {"serializer": "nope"}}},
            ("O", "options", "serializer"),
            "unknown serializer",
        ),
        (
            {"A": {"fields": {"b": "B"}}, "B": {"fields": {"a": "list[A]"}}},
            ("B", "fields", "a"),
            "cycle: A -> B -> A",
        ),
        ({"A": {"fields": {"a": {"type": "A?"}}}}, ("A", "fields", "a"), "cycle: A -> A"),
    ],
)
def test_definition_errors_carry_the_key_path(defs, path, message):
    with pytest.raises(ModelDefinitionError) as info:
        build_models(defs)
    assert info.value.path[: len(path)] == path
    assert message in str(info.value)
    assert isinstance(info.value, ConfigurationError)


def test_type_parser():
    assert parse_type_expr("int?") == ("optional", ("scalar", "int"))
    assert parse_type_expr("Optional[list[Order]]") == ("optional", ("list", ("model", "Order")))
    assert parse_type_expr(" Dict[str , int] ") == ("dict", ("scalar", "str"), ("scalar", "int"))
    for bad in ("", "[", "int]", "list[]", "dict[str]", "int[int]", "a b"):
        with pytest.raises(ValueError):
            parse_type_expr(bad)


def test_not_a_mapping():
    with pytest.raises(ModelDefinitionError):
        build_models(["Order"])  # type: ignore[arg-type]


def test_yaml_models_write_no_faust_metadata_unless_asked_python_records_keep_faust_default() -> (
    None
):
    """(#10) Non-Faust consumers of a YAML model's records see no ``__faust`` key."""

    saved = dict(registry)
    try:
        plain = build_models({"Plain": {"fields": {"n": "int"}}}, namespace_prefix="meta10.")
        asked = build_models(
            {"Tagged": {"options": {"include_metadata": True}, "fields": {"n": "int"}}},
            namespace_prefix="meta10.",
        )
    finally:
        registry.clear()
        registry.update(saved)
    assert json.loads(plain["Plain"](n=1).dumps()) == {"n": 1}
    assert json.loads(asked["Tagged"](n=1).dumps()) == {"n": 1, "__faust": {"ns": "meta10.Tagged"}}

    class Hand(Record, namespace="meta10.Hand"):
        n: int

    assert json.loads(Hand(n=1).dumps())["__faust"] == {"ns": "meta10.Hand"}
