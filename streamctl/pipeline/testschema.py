"""The JSON Schema (Draft 2020-12) of one pipeline test, as :mod:`streamctl.pipeline.testspec` reads it."""

from __future__ import annotations

from typing import Any

#: how expected records are compared with a topic's records (see README "Pipeline tests")
MATCHES = ("exact", "ordered", "unordered", "subset")
TABLE_MATCHES = ("exact", "subset")

#: how one expected record's value is compared (its own ``match:``)
VALUE_MATCHES = ("exact", "subset")

_HEADERS = {"type": "object", "additionalProperties": {"type": "string"}}
#: an input record; ``_Reader.record`` takes exactly these keys
INPUT_RECORD: dict[str, Any] = {
    "type": "object",
    "required": ["value"],
    "properties": {
        "value": {"description": "the record's value (JSON)"},
        "key": {"description": "the record's key (none when left out)"},
        "timestamp": {
            "type": ["number", "string"],
            "minimum": 0,
            "description": "epoch seconds or ISO 8601",
        },
        "headers": {**_HEADERS, "description": "headers sent with it (text to text)"},
    },
    "additionalProperties": False,
}
#: an expected record; ``_Reader.record`` takes exactly these keys
EXPECTED_RECORD: dict[str, Any] = {
    **INPUT_RECORD,
    "properties": {
        **INPUT_RECORD["properties"],
        "key": {"description": "the record's key (compared only when given)"},
        "headers": {
            **_HEADERS,
            "description": "headers it must carry, each with exactly this text (others allowed)",
        },
        "match": {
            "enum": list(VALUE_MATCHES),
            "description": "how its value is compared: exact, or subset (only the fields "
            "given, at every depth); default: subset under the topic's match: subset, "
            "else exact",
        },
        "reason": {"type": "string", "description": "text the dead-letter reason contains"},
    },
}
#: the JSON Schema (Draft 2020-12) of one test, for schemas/pipeline.schema.json
TEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name", "expect"],
    # as _Reader.test refuses a test that sends nothing or expects nothing
    "anyOf": [
        {"required": ["input"], "properties": {"input": {"minProperties": 1}}},
        {"required": ["given"], "properties": {"given": {"minProperties": 1}}},
    ],
    "properties": {
        "name": {"type": "string"},
        "given": {
            "type": "object",
            "description": "table -> {key: value} written before the run",
            "additionalProperties": {"type": "object"},
        },
        "input": {
            "type": "object",
            "description": "topic -> records, or {file: JSON lines, key_field: field}",
            "additionalProperties": {
                "oneOf": [
                    {"type": "array", "items": INPUT_RECORD},
                    {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string"}, "key_field": {"type": "string"}},
                        "additionalProperties": False,
                    },
                ]
            },
        },
        "expect": {
            "type": "object",
            "anyOf": [
                {"required": ["topics"], "properties": {"topics": {"minProperties": 1}}},
                {"required": ["tables"], "properties": {"tables": {"minProperties": 1}}},
            ],
            "properties": {
                "topics": {
                    "type": "object",
                    "additionalProperties": {
                        "oneOf": [
                            {"type": "array", "items": EXPECTED_RECORD},
                            {
                                "type": "object",
                                "required": ["records"],
                                "properties": {
                                    "match": {
                                        "enum": list(MATCHES),
                                        "default": "exact",
                                        "description": "which records: exact, ordered, "
                                        "unordered, or subset (others allowed; values "
                                        "compared as subsets)",
                                    },
                                    "records": {"type": "array", "items": EXPECTED_RECORD},
                                },
                                "additionalProperties": False,
                            },
                        ]
                    },
                },
                "tables": {
                    "type": "object",
                    "description": "table -> {key: value} (a list for windowed tables), "
                    "or {match, rows}",
                    "additionalProperties": {
                        "type": ["object", "array"],
                        # as expect_tables reads it: a mapping of only match: and rows:
                        "if": {
                            "type": "object",
                            "required": ["rows"],
                            "propertyNames": {"enum": ["match", "rows"]},
                        },
                        "then": {
                            "properties": {
                                "match": {"enum": list(TABLE_MATCHES), "default": "exact"},
                                "rows": {"type": ["object", "array"]},
                            }
                        },
                    },
                },
            },
            "additionalProperties": False,
        },
    },
    "additionalProperties": False,
}
