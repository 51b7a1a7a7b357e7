"""Check a step's argument against its declared ``Step.schema`` (JSON Schema, Draft 2020-12).

Every mismatch is one line at the position of the offending key or value, saying
what is expected: ``count: table must be a name, not a number``, ``unknown key
'vlaue' in sum (known: key, table, value) (did you mean 'value'?)``. The schema is
the one declaration of a step's shape (schemas/pipeline.schema.json is generated
from it); a step whose argument does not fit is not built, so its own checks
(tables, topics, expressions) only ever see a well-shaped argument.
"""

from __future__ import annotations

import difflib
import re
from typing import TYPE_CHECKING, Any

from streamctl.exceptions import yaml_repr
from streamctl.pipeline.yamlpos import Path_

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

#: what a string pattern used in the step schemas stands for
PATTERNS = {
    "^[A-Za-z][A-Za-z0-9_]*$": "a field name (a letter, then letters, digits or _)",
    "^[A-Za-z0-9._-]+$": "a name of letters, digits, '.', '_' or '-'",
}
_EXPR_TYPES = {"string", "number", "boolean", "null"}
_TYPE_WORDS = {
    "string": "text",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "null": "null",
    "object": "a mapping",
    "array": "a list",
}


#: id(schema) -> (schema, its validator); schemas are class attributes, checked once
_VALIDATORS: dict[int, tuple[Any, Draft202012Validator]] = {}


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    held = _VALIDATORS.get(id(schema))
    if held is None or held[0] is not schema:
        held = _VALIDATORS[id(schema)] = (schema, Draft202012Validator(schema))
    return held[1]


class _Unsure(Exception):
    """fits() met a keyword it does not know: jsonschema decides."""


_JSON_TYPES: dict[str, Any] = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}
#: annotations: they constrain nothing
_NOTES = {"title", "description", "default", "examples", "$comment"}


def fits(schema: Any, value: Any) -> bool:
    """Whether ``value`` fits ``schema``, for the keywords the step schemas use; _Unsure
    for any other. ``run`` checks every step this way without importing jsonschema (a
    start-up cost); only a misfit is explained by jsonschema (tests hold the two equal)."""
    if not isinstance(schema, dict):
        raise _Unsure
    for word, want in schema.items():
        if word in _NOTES or word in ("then", "else"):
            continue
        if word == "type":
            types = [want] if isinstance(want, str) else want
            if not any(_JSON_TYPES[t](value) for t in types):
                return False
        elif word == "enum":
            if not any(value == o and type(value) is type(o) for o in want):
                return False
        elif word == "const":
            if not (value == want and type(value) is type(want)):
                return False
        elif word == "pattern":
            if isinstance(value, str) and not re.search(want, value):
                return False
        elif word == "oneOf":
            if sum(fits(s, value) for s in want) != 1:
                return False
        elif word == "anyOf":
            if not any(fits(s, value) for s in want):
                return False
        elif word == "if":
            branch = "then" if fits(want, value) else "else"
            if branch in schema and not fits(schema[branch], value):
                return False
        elif word in ("minItems", "minProperties"):
            if isinstance(value, (list, dict)) and len(value) < want:
                return False
        elif word == "items":
            if isinstance(value, list) and not all(fits(want, v) for v in value):
                return False
        elif word == "required":
            if isinstance(value, dict) and any(k not in value for k in want):
                return False
        elif word == "properties":
            if isinstance(value, dict) and not all(
                fits(want[k], v) for k, v in value.items() if k in want
            ):
                return False
        elif word == "additionalProperties":
            if isinstance(value, dict):
                props = schema.get("properties", {})
                extra = [v for k, v in value.items() if k not in props]
                if want is False and extra:
                    return False
                if isinstance(want, dict) and not all(fits(want, v) for v in extra):
                    return False
        elif word == "propertyNames":
            if isinstance(value, dict) and not all(fits(want, k) for k in value):
                return False
        else:
            raise _Unsure
    return True


def schema_problems(kind: str, schema: dict[str, Any], arg: Any) -> list[tuple[Path_, str]]:
    """``(path inside arg, message)`` for each way ``arg`` does not fit ``schema``; [] when
    it fits (an empty schema takes anything). A path ending in ``"<key>"`` is a key's own
    position. Each message is one line naming the step ``kind``."""
    if not schema:
        return []
    try:
        if fits(schema, arg):
            return []
    except _Unsure:
        pass
    validator = _validator(schema)
    errors = sorted(validator.iter_errors(arg), key=lambda e: list(map(str, e.path)))
    misspelt = {_misspelt(e) for e in errors} - {None}
    found: list[tuple[Path_, str]] = []
    for error in errors:
        if (
            error.validator == "required"
            and (tuple(error.absolute_path), _missing(error)) in misspelt
        ):
            continue  # the misspelt key is the one mistake: "did you mean" says it
        found.append(_explain(kind, _leaf(error)))
    return found


def _missing(error: ValidationError) -> str:
    return next(k for k in error.validator_value if k not in error.instance)


def _misspelt(error: ValidationError) -> tuple[Path_, str] | None:
    """(path, key) of a required key that an unknown key of the same mapping misspells."""
    if error.validator != "additionalProperties" or not isinstance(error.instance, dict):
        return None
    props = error.schema.get("properties", {})
    missing = [k for k in error.schema.get("required", []) if k not in error.instance]
    for extra in (k for k in error.instance if k not in props):
        close = difflib.get_close_matches(str(extra), missing, n=1)
        if close:
            return tuple(error.absolute_path), close[0]
    return None


def _leaf(error: ValidationError) -> ValidationError:
    """The most telling error inside a oneOf/anyOf: the branch of the instance's type."""
    while error.validator in ("oneOf", "anyOf") and error.context:
        if all(e.validator == "required" for e in error.context):
            return error  # one of several keys is needed: say which
        fitting = [e for e in error.context if e.validator != "type" or e.relative_path]
        if not fitting:
            return error  # no branch takes this type at all: say what the branches are
        from jsonschema.exceptions import best_match

        error = best_match(fitting) or error
    return error


def _explain(kind: str, error: ValidationError) -> tuple[Path_, str]:
    path: Path_ = tuple(error.absolute_path)
    where = _where(kind, path)
    v, value, schema = error.validator, error.instance, error.schema
    if "propertyNames" in error.absolute_schema_path:
        what = PATTERNS.get(str(error.validator_value), f"matching {error.validator_value}")
        return path + (value, "<key>"), f"{kind}: {value!r} is not {what}"
    if v == "additionalProperties":
        known = sorted(schema.get("properties", {}))
        extra = [k for k in value if k not in schema.get("properties", {})]
        hint = difflib.get_close_matches(str(extra[0]), known, n=1) if extra else []
        in_ = f"{kind}" if not path else f"{kind} {_label(path)}"
        return path + (extra[0], "<key>"), (
            f"unknown key {extra[0]!r} in {in_} (known: {', '.join(known)})"
            + (f" (did you mean {hint[0]!r}?)" if hint else "")
        )
    if v == "required":
        need = _missing(error)
        prop = schema.get("properties", {}).get(need, {})
        return path, f"{where} needs {need}: {prop.get('description') or describe(prop)}"
    if v == "enum":
        options = ", ".join(str(o) for o in error.validator_value)
        return path, f"{where} must be one of {options}, not {yaml_repr(value)}"
    if v == "const":
        return path, f"{where} must be {yaml_repr(error.validator_value)}, not {yaml_repr(value)}"
    if v == "pattern":
        what = PATTERNS.get(str(error.validator_value), f"matching {error.validator_value}")
        return path, f"{where}: {value!r} is not {what}"
    if v in ("minItems", "minProperties"):
        unit = "item" if v == "minItems" else "key"
        n = error.validator_value
        return path, f"{where} needs at least {n} {unit}{'s' if n != 1 else ''}"
    if (
        v in ("oneOf", "anyOf")
        and error.context
        and all(e.validator == "required" for e in error.context)
    ):
        keys = " or ".join(f"{e.validator_value[0]}:" for e in error.context)
        return path, f"{where} needs {keys}"
    return path, f"{where} must be {describe(schema)}, not {_kind(value)}"


def _label(path: Path_) -> str:
    """``cases[0].to`` style text for a path inside a step's argument."""
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _where(kind: str, path: Path_) -> str:
    return kind if not path else f"{kind}: {_label(path)}"


def describe(schema: Any) -> str:
    """A short phrase for what ``schema`` takes: ``an expression``, ``{table, value, key?}``."""
    if not isinstance(schema, dict) or not schema:
        return "anything"
    if "title" in schema:
        return str(schema["title"])
    for alt in ("oneOf", "anyOf"):
        if alt in schema and "type" not in schema:
            return " or ".join(describe(s) for s in schema[alt])
    if "then" in schema:
        return f"{describe(schema['then'])} or {describe(schema.get('else', {}))}"
    if "enum" in schema:
        return "one of " + ", ".join(str(o) for o in schema["enum"])
    if "const" in schema:
        return yaml_repr(schema["const"])
    types = schema.get("type")
    types = [types] if isinstance(types, str) else list(types or [])
    if set(types) == _EXPR_TYPES:
        return "an expression (text, a number, true/false or null)"
    if types == ["object"]:
        props = schema.get("properties")
        if props:
            need = schema.get("required", [])
            keys = [
                k if k in need else f"{k}?" for k in [*need, *(p for p in props if p not in need)]
            ]
            return "{" + ", ".join(keys) + "}"
        return "{name: expression, ...}"
    if types == ["array"]:
        return f"a list, each {describe(schema.get('items', {}))}"
    if types == ["string"] and "pattern" in schema:
        return PATTERNS.get(schema["pattern"], "text")
    return " or ".join(_TYPE_WORDS.get(t, t) for t in types) or "anything"


def _kind(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "a boolean"
    return {dict: "a mapping", list: "a list", str: "text", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )
