"""JSON Schema (Draft 2020-12) for models: export, files on disk and a cached validator."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from streamctl.models.base import Model
from streamctl.models.exceptions import ValidationError, short_repr
from streamctl.models.fields import MISSING, FieldDescriptor
from streamctl.models.registry import BLESSED_KEY
from streamctl.models.typeexpr import TypeNode, typing_args

DIALECT = "https://json-schema.org/draft/2020-12/schema"
ID_PREFIX = "urn:streamctl:model:"
DECIMAL_TEXT = r"^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$"

#: The optional metadata object loading understands (and ignores unless it names a
#: subclass the field allows); documented in every schema so producers may send it.
METADATA_SCHEMA = {
    "type": "object",
    "description": "Model metadata: ns is the model namespace.",
    "properties": {"ns": {"type": "string"}},
}


def model_json_schema(cls: type[Model]) -> dict[str, Any]:
    """The JSON Schema of ``cls`` (nested models under ``$defs``).

    ``additionalProperties`` is true because loading ignores keys that are not fields
    (so producers may add fields before consumers know them); the ``__faust`` metadata
    key is described explicitly.
    """
    defs: dict[str, Any] = {}
    names: dict[type, str] = {}
    body = _model_body(cls, defs, names)
    schema: dict[str, Any] = {
        "$schema": DIALECT,
        "$id": ID_PREFIX + cls._options.namespace,
        **body,
    }
    if defs:
        schema["$defs"] = defs
    return schema


def _model_body(cls: type[Model], defs: dict[str, Any], names: dict[type, str]) -> dict[str, Any]:
    options = cls._options
    properties: dict[str, Any] = {}
    required: list[str] = []
    for descr in options.descriptors.values():
        key = str(descr.input_name)
        properties[key] = field_schema(descr, defs, names)
        if descr.required:
            required.append(key)
    properties[BLESSED_KEY] = METADATA_SCHEMA
    body: dict[str, Any] = {"title": cls.__name__, "type": "object", "properties": properties}
    doc = cls.__dict__.get("__doc__")
    if doc:
        body["description"] = " ".join(doc.split())
    if required:
        body["required"] = required
    body["additionalProperties"] = True
    return body


def field_schema(
    descr: FieldDescriptor, defs: dict[str, Any], names: dict[type, str]
) -> dict[str, Any]:
    node = descr.node
    inner = node.args[0] if node.kind == "optional" else node
    schema = {**node_schema(inner, defs, names), **descr.schema_constraints()}
    if descr.nullable and node.kind not in ("any", "none"):
        schema = _nullable(schema)
    if not descr.required and descr.default_factory is None:
        default = descr.default
        if descr.dump is not None and default is not None:
            default = descr.dump(default)
        if _is_json(default):
            schema["default"] = default
    return schema


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    t = schema.get("type")
    if isinstance(t, str) and "$ref" not in schema:
        out = {**schema, "type": [t, "null"]}
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
        return out
    if isinstance(t, list):
        return {**schema, "type": [*t, "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def node_schema(node: TypeNode, defs: dict[str, Any], names: dict[type, str]) -> dict[str, Any]:
    """Schema of a parsed annotation (constraints of the field are added by the caller)."""
    kind = node.kind
    simple: dict[str, dict[str, Any]] = {
        "int": {"type": "integer"},
        "float": {"type": "number"},
        "bool": {"type": "boolean"},
        "str": {"type": "string"},
        "bytes": {"type": "string", "contentEncoding": "base64"},
        "decimal": {"type": ["string", "number"], "pattern": DECIMAL_TEXT},
        "datetime": {"type": "string", "format": "date-time"},
        "date": {"type": "string", "format": "date"},
        "none": {"type": "null"},
    }
    if kind in simple:
        return dict(simple[kind])
    if kind == "optional":
        return _nullable(node_schema(node.args[0], defs, names))
    if kind == "enum":
        return {"enum": [member.value for member in node.type]}
    if kind == "literal":
        return {"enum": list(typing_args(node.type))}
    if kind in ("list", "tuple", "set", "frozenset"):
        out: dict[str, Any] = {"type": "array", "items": node_schema(node.args[0], defs, names)}
        if kind in ("set", "frozenset"):
            out["uniqueItems"] = True
        return out
    if kind == "fixed_tuple":
        items = [node_schema(a, defs, names) for a in node.args]
        n = len(items)
        return {"type": "array", "prefixItems": items, "minItems": n, "maxItems": n}
    if kind == "dict":
        return {"type": "object", "additionalProperties": node_schema(node.args[1], defs, names)}
    if kind == "model":
        return {"$ref": f"#/$defs/{_def_name(node.type, defs, names)}"}
    if kind == "union":
        return {"anyOf": [node_schema(a, defs, names) for a in node.args]}
    return {}


def _def_name(model: type[Model], defs: dict[str, Any], names: dict[type, str]) -> str:
    if model in names:
        return names[model]
    name = model.__name__
    if name in defs or name in names.values():
        name = model._options.namespace
    names[model] = name
    defs[name] = {}  # reserve first: recursive models refer to themselves
    defs[name] = _model_body(model, defs, names)
    return name


def _is_json(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


def dump_schema(cls: type[Model]) -> str:
    """Deterministic text of the schema: sorted keys, indent 2, trailing newline."""
    return json.dumps(model_json_schema(cls), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def schema_path(out_dir: str | Path, name: str) -> Path:
    """Where the schema of model ``name`` lives: ``<out_dir>/<name>.schema.json``."""
    return Path(out_dir) / f"{name}.schema.json"


def write_schemas(models: Mapping[str, type[Model]], out_dir: str | Path) -> list[Path]:
    """Write one ``<Name>.schema.json`` per model; returns the paths in name order."""
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    written = []
    for name in sorted(models):
        path = schema_path(out_dir, name)
        path.write_text(dump_schema(models[name]), encoding="utf-8")
        written.append(path)
    return written


def stale_schemas(models: Mapping[str, type[Model]], out_dir: str | Path) -> list[str]:
    """Names whose schema file in ``out_dir`` is missing or differs from the model."""
    stale = []
    for name in sorted(models):
        path = schema_path(out_dir, name)
        try:
            current = path.read_text(encoding="utf-8")
        except OSError:
            stale.append(name)
            continue
        if current != dump_schema(models[name]):
            stale.append(name)
    return stale


# --------------------------------------------------------------------------- validator


def schema_validator(cls: type[Model]) -> Any:
    """A ``jsonschema.Draft202012Validator`` for ``cls``, compiled once and cached."""
    cached = cls.__dict__.get("_json_schema_validator")
    if cached is not None:
        return cached
    from jsonschema import Draft202012Validator, FormatChecker

    validator = Draft202012Validator(model_json_schema(cls), format_checker=FormatChecker())
    cls._json_schema_validator = validator
    return validator


def validate_data(cls: type[Model], data: Any) -> None:
    """Check decoded ``data`` against the schema of ``cls``; raise one clear ValidationError."""
    from jsonschema.exceptions import best_match

    error = best_match(schema_validator(cls).iter_errors(data))
    if error is None:
        return
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    value = error.instance
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [k for k in error.validator_value if k not in error.instance]
        path += f".{missing[0]}" if missing else ""
        value, rule = MISSING, "is required"
    else:
        rule = f"violates {error.validator} {short_repr(error.validator_value, 60)}"
    raise ValidationError(cls.__name__, path.lstrip("."), value, rule)
