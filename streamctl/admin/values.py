"""Keys and values typed by an operator, checked against a table's types before a write.

``streamctl table set`` takes text; a value its table's agents cannot use would be
written to the changelog and break the worker on every restart (``abc`` in a count
table). So the text is read as JSON when it parses (else as a string) and then
checked against, in order: the table's ``value_type`` (a scalar type or a model,
decoded as the worker would), else the type its ``default`` factory makes
(``int``, ``float``, ``str``, ``list``, ``dict``), else the type of a literal
default. A set table takes one member (``pen`` stays ``pen``) or a JSON array of
members, each checked against the member type.
"""

from __future__ import annotations

import json
from typing import Any

from streamctl.exceptions import ConfigurationError, DecodeError
from streamctl.models.codecs import get_codec


class BadValue(ConfigurationError):
    """A key or value given on the command line does not fit the table (exit 2)."""


def parse_text(text: str, want: Any = None) -> Any:
    """JSON when ``text`` parses as JSON, else the text itself (always text for ``want=str``)."""
    if want is str:
        return text
    try:
        return get_codec("json").loads(text.encode())
    except DecodeError:
        return text


def _expected(table: Any) -> Any:
    """The Python type a value of ``table`` has, or None when any JSON value goes."""
    if table.value_type is not None:
        return table.value_type
    default = table.default
    if default in (int, float, str, bool, list, dict):
        return default
    if callable(default):
        try:
            sample = default()
        except Exception:  # a plugin's factory: no type to check against
            return None
        if isinstance(sample, (bool, int, float, str, list, dict)):
            return type(sample)
    return None


def _check(table: Any, value: Any, expected: Any, what: str) -> Any:
    """``value`` as the table will hold it; BadValue when it does not fit ``expected``."""
    if expected is None:
        return value
    name = getattr(expected, "__name__", str(expected))
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if expected in (int, float) and (isinstance(value, bool) or not isinstance(value, expected)):
        raise BadValue(
            f"table {table.name!r} holds {name} values; {what} {_show(value)} is not one"
        )
    if expected in (str, bool, list, dict):
        if not isinstance(value, expected):
            raise BadValue(
                f"table {table.name!r} holds {name} values; {what} {_show(value)} is not one"
            )
        return value
    from_data = getattr(expected, "from_data", None)
    if from_data is not None:
        try:
            return from_data(value)
        except (DecodeError, TypeError, ValueError) as exc:
            raise BadValue(f"table {table.name!r} holds {name} values; {what}: {exc}") from None
    return value


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def value_for(table: Any, text: str) -> Any:
    """The value to write for ``table set TABLE KEY TEXT``; BadValue if the table cannot hold it.

    For a set table: a set of members, from one member or a JSON array of them.
    """
    if _is_set(table):
        parsed = parse_text(text)
        return fit_value(
            table, parsed if isinstance(parsed, list) else [parse_text(text, table.value_type)]
        )
    expected = _expected(table)
    return fit_value(table, parse_text(text, expected))


def _is_set(table: Any) -> bool:
    return bool(getattr(table, "is_set", False) or table.default is set)


def fit_value(table: Any, value: Any) -> Any:
    """``value`` (already parsed: JSON, YAML) as ``table`` will hold it, checked as
    ``table set`` checks it; BadValue if the table cannot hold it. A set table takes a
    list of members (or one member)."""
    if _is_set(table):
        member_type = table.value_type
        members = value if isinstance(value, (list, set)) else [value]
        checked = set()
        for m in members:
            m = _check(table, m, member_type, "member")
            try:
                hash(m)
            except TypeError:
                raise BadValue(f"set members must be scalars, not {_show(m)}") from None
            checked.add(m)
        return checked
    return _check(table, value, _expected(table), "value")
