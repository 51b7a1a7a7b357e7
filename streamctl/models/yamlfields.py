"""One YAML field: check its spec, parse its type and build its configured FieldDescriptor."""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from streamctl.models.exceptions import ModelDefinitionError
from streamctl.models.fields import (
    CharField,
    DatetimeField,
    DecimalField,
    FieldDescriptor,
    NumberField,
    StringField,
    field_for_type,
)
from streamctl.models.options import ModelOptions
from streamctl.models.record import Record
from streamctl.models.yamltypes import (
    TYPE_PATTERN,
    TypeAst,
    base_kind,
    models_in,
    parse_type_expr,
)

Path = tuple[Any, ...]
#: A checked field: its parsed type and its spec as a mapping.
FieldSpec = tuple[TypeAst, dict[str, Any]]

_COUNT: dict[str, Any] = {"type": "integer", "minimum": 0}
#: a field mapping's keys and the JSON Schema of each, as :func:`descriptor` checks them
#: (the pipeline schema is built from it; which field types a key applies to is not in it)
FIELD_SCHEMA: dict[str, dict[str, Any]] = {
    "type": {"type": "string", "pattern": TYPE_PATTERN},
    "required": {"type": "boolean"},
    "default": {},
    "min": {"type": "number"},
    "max": {"type": "number"},
    "min_length": _COUNT,
    "max_length": _COUNT,
    "pattern": {"type": "string"},
    "enum": {"type": "array"},
    "max_digits": _COUNT,
    "decimal_places": _COUNT,
    "allow_blank": {"type": "boolean"},
    "trim_whitespace": {"type": "boolean"},
    "timezone": {},
    "description": {"type": "string"},
}
FIELD_KEYS = frozenset(FIELD_SCHEMA)
_RESERVED = frozenset(name for name in dir(Record) if not name.startswith("__"))


def parse_field(field: Any, spec: Any, fpath: Path, defs: Mapping[str, Any]) -> FieldSpec:
    """Check a field's name and spec (``int`` or ``{type: int, min: 1}``) and parse its type."""
    if not isinstance(field, str) or not field.isidentifier() or keyword.iskeyword(field):
        raise ModelDefinitionError(f"field name {field!r} is not an identifier", fpath, key=True)
    if field.startswith("_") or field in _RESERVED:
        raise ModelDefinitionError(
            f"field name {field!r} is reserved (underscore or a Record method)",
            fpath,
            key=True,
        )
    if isinstance(spec, str):
        spec = {"type": spec}
        tpath = fpath
    elif isinstance(spec, Mapping):
        for key in spec:
            if key not in FIELD_KEYS:
                raise ModelDefinitionError(
                    f"unknown key {key!r} (expected one of {sorted(FIELD_KEYS)})",
                    (*fpath, key),
                    key=True,
                )
        if "type" not in spec:
            raise ModelDefinitionError("a field mapping needs 'type'", fpath)
        tpath = (*fpath, "type")
    else:
        raise ModelDefinitionError("a field is a type string or a mapping with 'type'", fpath)
    if not isinstance(spec["type"], str):
        raise ModelDefinitionError("type must be a string", tpath)
    try:
        ast = parse_type_expr(spec["type"])
    except ValueError as exc:
        raise ModelDefinitionError(str(exc), tpath) from None
    for ref in models_in(ast):
        if ref not in defs:
            raise ModelDefinitionError(f"unknown type {ref!r}", tpath)
    return ast, dict(spec)


def descriptor(
    field: str,
    ast: TypeAst,
    spec: dict[str, Any],
    tp: Any,
    fpath: Path,
    options: ModelOptions,
) -> FieldDescriptor:
    """The descriptor for a parsed field spec annotated ``tp``.

    ``enum`` and ``default`` values are loaded and checked as the field would load them.
    """
    kind = base_kind(ast)
    cls = field_for_type(tp)
    kwargs: dict[str, Any] = {}

    def bad(key: str, message: str) -> ModelDefinitionError:
        return ModelDefinitionError(message, (*fpath, key))

    def only(key: str, kinds: tuple[str, ...], target: type) -> bool:
        if key not in spec:
            return False
        if kind not in kinds or not issubclass(cls, target):
            raise bad(key, f"{key} applies to {'/'.join(kinds)} fields, not {kind}")
        return True

    for key, arg in (("min", "min_value"), ("max", "max_value")):
        if only(key, ("int", "float", "decimal"), NumberField):
            value = spec[key]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise bad(key, f"{key} must be a number")
            kwargs[arg] = Decimal(str(value)) if kind == "decimal" else value
    if (
        "min_value" in kwargs
        and "max_value" in kwargs
        and kwargs["min_value"] > kwargs["max_value"]
    ):
        raise bad("min", f"min {spec['min']} is greater than max {spec['max']}")
    for key in ("min_length", "max_length"):
        if only(key, ("str", "bytes"), CharField):
            value = spec[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise bad(key, f"{key} must be a non-negative integer")
            kwargs[key] = value
    if kwargs.get("min_length", 0) > kwargs.get("max_length", float("inf")):
        raise bad("min_length", "min_length is greater than max_length")
    for key in ("allow_blank", "trim_whitespace"):
        if only(key, ("str", "bytes"), CharField):
            if not isinstance(spec[key], bool):
                raise bad(key, f"{key} must be true or false")
            kwargs[key] = spec[key]
    if only("pattern", ("str",), StringField):
        pattern = spec["pattern"]
        if not isinstance(pattern, str):
            raise bad("pattern", "pattern must be a string")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise bad("pattern", f"pattern does not compile: {exc}") from None
        kwargs["pattern"] = pattern
    for key in ("max_digits", "decimal_places"):
        if only(key, ("decimal",), DecimalField):
            value = spec[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise bad(key, f"{key} must be a non-negative integer")
            kwargs[key] = value
    if kwargs.get("decimal_places", 0) > kwargs.get("max_digits", float("inf")):
        raise bad("decimal_places", "decimal_places is greater than max_digits")
    if only("timezone", ("datetime",), DatetimeField):
        kwargs["timezone"] = spec["timezone"]
    if "description" in spec:
        if not isinstance(spec["description"], str):
            raise bad("description", "description must be a string")
        kwargs["description"] = spec["description"]
    required = spec.get("required", True)
    if not isinstance(required, bool):
        raise bad("required", "required must be true or false")
    if required and "default" in spec and spec.get("required") is True:
        raise bad("required", "a field with a default is not required")
    if (not required or ast[0] == "optional") and "default" not in spec:
        kwargs["required"] = False  # default None
    try:
        descr = cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ModelDefinitionError(str(exc), fpath) from None
    if "enum" in spec:
        descr.choices = _checked_values(descr, "enum", spec["enum"], tp, fpath, options)
    if "default" in spec:
        default = _checked_values(descr, "default", [spec["default"]], tp, fpath, options)[0]
        descr._default = default
        descr.required = False
    return descr


def _checked_values(
    descr: FieldDescriptor,
    key: str,
    values: Any,
    tp: Any,
    fpath: Path,
    options: ModelOptions,
) -> list[Any]:
    """Load ``values`` as the field would and check each against its type and rules."""
    if key == "enum" and (not isinstance(values, list) or not values):
        raise ModelDefinitionError("enum must be a non-empty list", (*fpath, key))
    probe = descr.clone()
    probe.choices = None if key == "enum" else descr.choices
    probe.required = False
    probe.attach(type("probe", (), {}), str(fpath[-1]), tp, options)
    out = []
    for i, raw in enumerate(values):
        where = (*fpath, key) if key == "default" else (*fpath, key, i)
        try:
            value = probe.load(raw) if probe.load is not None and raw is not None else raw
        except Exception as exc:
            raise ModelDefinitionError(f"{raw!r} is not a valid value: {exc}", where) from None
        problem = probe.check(value) if probe.check is not None else None
        if problem is not None and not (raw is None and key == "default"):
            raise ModelDefinitionError(f"{raw!r} is not valid: {problem[1]}", where)
        out.append(value)
    return out
