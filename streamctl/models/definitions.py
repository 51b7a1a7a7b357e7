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
``decimal`` fields hold datetime and Decimal values after loading, and to
``include_metadata: false``, so records they write carry no ``"__faust"`` namespace
that consumers outside streamctl and Faust would see (#10).
"""

from __future__ import annotations

import keyword
from collections.abc import Mapping
from typing import Any

from streamctl.exceptions import ConfigurationError
from streamctl.models.codecs import get_codec
from streamctl.models.exceptions import ModelDefinitionError
from streamctl.models.options import ModelOptions
from streamctl.models.record import Record
from streamctl.models.yamlfields import FieldSpec, Path, descriptor, parse_field
from streamctl.models.yamltypes import GENERICS, SCALARS, models_in, parse_type_expr, python_type
from streamctl.wording import with_article

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
YAML_DEFAULT_OPTIONS = {"isodates": True, "decimals": True, "include_metadata": False}
MODEL_KEYS = frozenset({"fields", "options", "description"})


def build_models(defs: Mapping[str, Any], *, namespace_prefix: str = "") -> dict[str, type[Record]]:
    """Turn ``{ModelName: {fields: {...}, options: {...}}}`` into Record classes.

    Every mistake raises ModelDefinitionError whose ``path`` is the key path of the bad
    node (e.g. ``("Order", "fields", "quantity", "min")``). The classes register in the
    global registry under ``options.namespace`` or ``namespace_prefix + name``.
    """
    if not isinstance(defs, Mapping):
        raise ModelDefinitionError("models must be a mapping of model name to definition")
    parsed: dict[str, dict[str, FieldSpec]] = {}
    for name, body in defs.items():
        parsed[name] = _parse_model(name, body, defs)
    order = _build_order(parsed)
    built: dict[str, type[Record]] = {}
    for name in order:
        built[name] = _build_model(name, defs[name], parsed[name], built, namespace_prefix)
    return {name: built[name] for name in defs}


def _parse_model(name: Any, body: Any, defs: Mapping[str, Any]) -> dict[str, FieldSpec]:
    path: Path = (name,)
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise ModelDefinitionError(f"model name {name!r} is not an identifier", path, key=True)
    if name.lower() in SCALARS or name.lower() in GENERICS:
        raise ModelDefinitionError(
            f"model name {name!r} clashes with a built-in type", path, key=True
        )
    if not name[0].isupper() or not name.isascii():
        raise ModelDefinitionError(
            f"model name {name!r} must start with a capital letter (CapWords, as a Record "
            "class), e.g. Order",
            path,
            key=True,
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
    return {
        field: parse_field(field, spec, (*path, "fields", field), defs)
        for field, spec in fields.items()
    }


def _build_order(parsed: Mapping[str, dict[str, FieldSpec]]) -> list[str]:
    """Dependencies first; a cycle is an error at the field that closes it."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = visiting, 2 = done
    stack: list[tuple[str, str]] = []

    def visit(name: str) -> None:
        state[name] = 1
        for field, (ast, spec) in parsed[name].items():
            for ref in models_in(ast):
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
    fields: dict[str, FieldSpec],
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
        tp = python_type(ast, built)
        annotations[field] = tp
        namespace[field] = descriptor(field, ast, spec, tp, fpath, probe_options)
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
            raise ModelDefinitionError(
                f"{key} must be {with_article(expected.__name__)}", (*path, key)
            )
        options[key] = value
    if "serializer" in options:
        try:
            get_codec(options["serializer"])
        except ConfigurationError as exc:
            raise ModelDefinitionError(str(exc), (*path, "serializer")) from None
    options.setdefault("namespace", prefix + name)
    return options


__all__ = ["ModelDefinitionError", "build_models", "parse_type_expr"]
