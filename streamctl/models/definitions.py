"""Build real Record classes from YAML model definitions (already parsed to a mapping).

Syntax (one entry per model; models may refer to each other in any order)::

    Order:
      description: An order as placed.        # optional, becomes the docstring
      options: {validation: true, serializer: json}
      fields:
        id: int
        customer: Customer                    # another model
        quantity: {type: int, min: 1}
        price: {type: decimal, max_digits: 10, decimal_places: 2}
        tags: list[str]
        note: str?                            # same as Optional[str]: may be null, default null
        created: datetime

Type expressions: ``int float bool str bytes decimal datetime date any``, a model name,
``list[T]``, ``set[T]``, ``dict[str, T]`` (``List``/``Set``/``Dict`` also accepted),
``Optional[T]`` or ``T?``. A field mapping takes ``type`` plus ``required``, ``default``,
``min``, ``max``, ``min_length``, ``max_length``, ``pattern``, ``enum``, ``max_digits``,
``decimal_places``, ``allow_blank``, ``trim_whitespace``, ``timezone``, ``description``.
Options: ``serializer namespace isodates decimals validation include_metadata coerce
polymorphic_fields allow_blessed_key``. Unlike hand-written Records (Faust defaults),
YAML models default to ``isodates: true`` and ``decimals: true`` so ``datetime`` and
``decimal`` fields hold datetime and Decimal values after loading.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Optional

from streamctl.exceptions import ConfigurationError
from streamctl.models.codecs import get_codec
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

Path = tuple[Any, ...]

SCALARS: dict[str, Any] = {
    "int": int,
    "float": float,
    "bool": bool,
    "str": str,
    "bytes": bytes,
    "decimal": Decimal,
    "datetime": datetime,
    "date": date,
    "any": Any,
}
GENERICS = {"list": 1, "set": 1, "dict": 2, "optional": 1}
FIELD_KEYS = frozenset(
    {
        "type", "required", "default", "min", "max", "min_length", "max_length", "pattern",
        "enum", "max_digits", "decimal_places", "allow_blank", "trim_whitespace", "timezone",
        "description",
    }
)  # fmt: skip
OPTION_KEYS = {
    "serializer": str,
    "namespace": str,
    "isodates": bool,
    "decimals": bool,
    "validation": bool,
    "include_metadata": bool,
    "coerce": bool,
    "polymorphic_fields": bool,
    "allow_blessed_key": bool,
}
YAML_DEFAULT_OPTIONS = {"isodates": True, "decimals": True}
MODEL_KEYS = frozenset({"fields", "options", "description"})
_RESERVED = frozenset(name for name in dir(Record) if not name.startswith("__"))
_TOKEN = re.compile(r"\s*(?:([A-Za-z_][A-Za-z0-9_.]*)|(\[|\]|,|\?))")

# --------------------------------------------------------------------------- type syntax

# A parsed type expression: ("scalar", name) | ("model", name) | (generic, *children)
TypeAst = tuple[Any, ...]


def parse_type_expr(text: str) -> TypeAst:
    """Parse ``dict[str, list[Order]]?`` into a small tuple tree; ValueError when malformed."""
    tokens: list[str] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError(f"unexpected {text[pos:]!r} in type {text!r}")
        tokens.append(m.group(1) or m.group(2))
        pos = m.end()
    if not tokens:
        raise ValueError("empty type")
    ast, rest = _parse(tokens, text)
    if rest:
        raise ValueError(f"unexpected {' '.join(rest)!r} in type {text!r}")
    return ast


def _parse(tokens: list[str], text: str) -> tuple[TypeAst, list[str]]:
    head, rest = tokens[0], tokens[1:]
    if head in "[],?":
        raise ValueError(f"expected a type name in {text!r}")
    lowered = head.lower()
    ast: TypeAst
    if rest and rest[0] == "[":
        if lowered not in GENERICS:
            raise ValueError(f"{head!r} takes no parameters in {text!r}")
        args: list[TypeAst] = []
        rest = rest[1:]
        while True:
            arg, rest = _parse(rest, text) if rest else (None, [])
            if arg is None:
                raise ValueError(f"unfinished type {text!r}")
            args.append(arg)
            if rest and rest[0] == ",":
                rest = rest[1:]
                continue
            if rest and rest[0] == "]":
                rest = rest[1:]
                break
            raise ValueError(f"expected ',' or ']' in {text!r}")
        if len(args) != GENERICS[lowered]:
            raise ValueError(f"{head} takes {GENERICS[lowered]} parameter(s) in {text!r}")
        if lowered == "dict" and args[0] != ("scalar", "str"):
            raise ValueError(f"dict keys must be str (JSON object keys) in {text!r}")
        ast = (lowered, *args)
    elif lowered in GENERICS:
        raise ValueError(f"{head} needs parameters, e.g. {lowered}[int], in {text!r}")
    elif lowered in SCALARS:
        ast = ("scalar", lowered)
    else:
        ast = ("model", head)
    if rest and rest[0] == "?":
        rest = rest[1:]
        ast = ("optional", ast)
    return ast, rest


def _models_in(ast: TypeAst) -> list[str]:
    if ast[0] == "model":
        return [ast[1]]
    if ast[0] == "scalar":
        return []
    return [name for child in ast[1:] for name in _models_in(child)]


def _python_type(ast: TypeAst, built: Mapping[str, type]) -> Any:
    kind = ast[0]
    if kind == "scalar":
        return SCALARS[ast[1]]
    if kind == "model":
        return built[ast[1]]
    args = [_python_type(a, built) for a in ast[1:]]
    if kind == "optional":
        return Optional[args[0]]  # noqa: UP045 - a runtime type object, not an annotation
    if kind == "list":
        return list[args[0]]  # type: ignore[valid-type]
    if kind == "set":
        return set[args[0]]  # type: ignore[valid-type]
    return dict[args[0], args[1]]  # type: ignore[valid-type]


def _base_kind(ast: TypeAst) -> str:
    """The scalar name under an Optional, or the generic/model kind."""
    while ast[0] == "optional":
        ast = ast[1]
    return ast[1] if ast[0] == "scalar" else ast[0]


# --------------------------------------------------------------------------- entry point


def build_models(defs: Mapping[str, Any], *, namespace_prefix: str = "") -> dict[str, type[Record]]:
    """Turn ``{ModelName: {fields: {...}, options: {...}}}`` into Record classes.

    Every mistake raises ModelDefinitionError whose ``path`` is the key path of the bad
    node (e.g. ``("Order", "fields", "quantity", "min")``). The classes register in the
    global registry under ``options.namespace`` or ``namespace_prefix + name``.
    """
    if not isinstance(defs, Mapping):
        raise ModelDefinitionError("models must be a mapping of model name to definition")
    parsed: dict[str, dict[str, tuple[TypeAst, dict[str, Any]]]] = {}
    for name, body in defs.items():
        parsed[name] = _parse_model(name, body, defs)
    order = _build_order(parsed)
    built: dict[str, type[Record]] = {}
    for name in order:
        built[name] = _build_model(name, defs[name], parsed[name], built, namespace_prefix)
    return {name: built[name] for name in defs}


def _parse_model(
    name: Any, body: Any, defs: Mapping[str, Any]
) -> dict[str, tuple[TypeAst, dict[str, Any]]]:
    path: Path = (name,)
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise ModelDefinitionError(f"model name {name!r} is not an identifier", path, key=True)
    if name.lower() in SCALARS or name.lower() in GENERICS:
        raise ModelDefinitionError(
            f"model name {name!r} clashes with a built-in type", path, key=True
        )
    if not isinstance(body, Mapping):
        raise ModelDefinitionError("a model must be a mapping with 'fields'", path)
    for key in body:
        if key not in MODEL_KEYS:
            raise ModelDefinitionError(
                f"unknown key {key!r} (expected one of {sorted(MODEL_KEYS)})",
                (*path, key),
                key=True,
            )
    fields = body.get("fields")
    if not isinstance(fields, Mapping):
        raise ModelDefinitionError("'fields' must be a mapping of field name to type", path)
    description = body.get("description")
    if description is not None and not isinstance(description, str):
        raise ModelDefinitionError("description must be a string", (*path, "description"))
    out: dict[str, tuple[TypeAst, dict[str, Any]]] = {}
    for field, spec in fields.items():
        fpath = (*path, "fields", field)
        if not isinstance(field, str) or not field.isidentifier() or keyword.iskeyword(field):
            raise ModelDefinitionError(
                f"field name {field!r} is not an identifier", fpath, key=True
            )
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
        for ref in _models_in(ast):
            if ref not in defs:
                raise ModelDefinitionError(f"unknown type {ref!r}", tpath)
        out[field] = (ast, dict(spec))
    return out


def _build_order(parsed: Mapping[str, dict[str, tuple[TypeAst, dict[str, Any]]]]) -> list[str]:
    """Dependencies first; a cycle is an error at the field that closes it."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = visiting, 2 = done
    stack: list[tuple[str, str]] = []

    def visit(name: str) -> None:
        state[name] = 1
        for field, (ast, spec) in parsed[name].items():
            for ref in _models_in(ast):
                if state.get(ref) == 1:
                    names = [n for n, _ in stack] + [name]
                    cycle = names[names.index(ref) :] + [ref]
                    tpath = (name, "fields", field) + (("type",) if len(spec) > 1 else ())
                    raise ModelDefinitionError(
                        f"models refer to each other in a cycle: {' -> '.join(cycle)}", tpath
                    )
                if state.get(ref) != 2:
                    stack.append((name, field))
                    visit(ref)
                    stack.pop()
        state[name] = 2
        order.append(name)

    for name in parsed:
        if name not in state:
            visit(name)
    return order


def _build_model(
    name: str,
    body: Mapping[str, Any],
    fields: dict[str, tuple[TypeAst, dict[str, Any]]],
    built: Mapping[str, type[Record]],
    namespace_prefix: str,
) -> type[Record]:
    options = _options(name, body.get("options"), namespace_prefix)
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {
        "__module__": __name__,
        "__qualname__": name,
        "__any_field_order__": True,  # YAML order is free: required fields go first anyway
    }
    probe_options = ModelOptions(**{k: v for k, v in options.items() if k != "namespace"})
    for field, (ast, spec) in fields.items():
        fpath = (name, "fields", field)
        tp = _python_type(ast, built)
        annotations[field] = tp
        namespace[field] = _descriptor(field, ast, spec, tp, fpath, probe_options)
    namespace["__annotations__"] = annotations
    if body.get("description"):
        namespace["__doc__"] = body["description"]
    try:
        return type(name, (Record,), namespace, **options)
    except (TypeError, ValueError) as exc:
        raise ModelDefinitionError(str(exc), (name,)) from None


def _options(name: str, raw: Any, prefix: str) -> dict[str, Any]:
    path: Path = (name, "options")
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ModelDefinitionError("options must be a mapping", path)
    options: dict[str, Any] = dict(YAML_DEFAULT_OPTIONS)
    for key, value in raw.items():
        expected = OPTION_KEYS.get(key)
        if expected is None:
            raise ModelDefinitionError(
                f"unknown option {key!r} (expected one of {sorted(OPTION_KEYS)})",
                (*path, key),
                key=True,
            )
        if not isinstance(value, expected):
            raise ModelDefinitionError(f"{key} must be a {expected.__name__}", (*path, key))
        options[key] = value
    if "serializer" in options:
        try:
            get_codec(options["serializer"])
        except ConfigurationError as exc:
            raise ModelDefinitionError(str(exc), (*path, "serializer")) from None
    options.setdefault("namespace", prefix + name)
    return options


def _descriptor(
    field: str,
    ast: TypeAst,
    spec: dict[str, Any],
    tp: Any,
    fpath: Path,
    options: ModelOptions,
) -> FieldDescriptor:
    kind = _base_kind(ast)
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


__all__ = ["ModelDefinitionError", "build_models", "parse_type_expr"]
