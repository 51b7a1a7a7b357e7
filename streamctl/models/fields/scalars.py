"""Scalar fields: booleans, numbers with bounds, text and bytes with lengths and patterns."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from streamctl.models import typeexpr
from streamctl.models.fields.base import FieldDescriptor
from streamctl.models.typeexpr import Check, Problem

_INF = float("inf")


class BooleanField(FieldDescriptor):
    """A ``bool`` field."""

    def fast_accept(self) -> Callable[[Any], bool] | None:
        if typeexpr.inner(self.node).kind != "bool":
            return None
        return lambda v: v is True or v is False


class NumberField(FieldDescriptor):
    """Base of numeric fields: ``min_value`` and ``max_value`` are inclusive bounds."""

    def __init__(self, *, min_value: Any = None, max_value: Any = None, **kwargs: Any) -> None:
        if min_value is not None and max_value is not None and min_value > max_value:
            raise ValueError(f"min_value {min_value!r} is greater than max_value {max_value!r}")
        self.min_value = min_value
        self.max_value = max_value
        super().__init__(**kwargs)

    def constraint_checks(self) -> list[Check]:
        checks = super().constraint_checks()
        lo, hi = self.min_value, self.max_value
        if lo is not None:
            rule_lo = f"must be >= {lo}"
            checks.append(lambda v: None if v >= lo else ("", rule_lo, v))
        if hi is not None:
            rule_hi = f"must be <= {hi}"
            checks.append(lambda v: None if v <= hi else ("", rule_hi, v))
        return checks

    def schema_constraints(self) -> dict[str, Any]:
        out = super().schema_constraints()
        if self.min_value is not None:
            out["minimum"] = _schema_number(self.min_value)
        if self.max_value is not None:
            out["maximum"] = _schema_number(self.max_value)
        return out


def _bounds(lo: Any, hi: Any) -> tuple[Any, Any]:
    return (-_INF if lo is None else lo), (_INF if hi is None else hi)


def _schema_number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


class IntegerField(NumberField):
    """An ``int`` field."""

    def fast_accept(self) -> Callable[[Any], bool] | None:
        if typeexpr.inner(self.node).kind != "int":
            return None
        lo, hi = _bounds(self.min_value, self.max_value)
        return lambda v: type(v) is int and lo <= v <= hi


class FloatField(NumberField):
    """A ``float`` field."""

    def fast_accept(self) -> Callable[[Any], bool] | None:
        if typeexpr.inner(self.node).kind != "float":
            return None
        lo, hi = _bounds(self.min_value, self.max_value)
        # v - v == 0.0 is False for inf and nan
        return lambda v: type(v) is float and v - v == 0.0 and lo <= v <= hi


class CharField(FieldDescriptor):
    """Base of text fields: lengths, ``trim_whitespace``, ``allow_blank``.

    As in Faust, a blank value is a validation error unless ``allow_blank=True``.
    """

    def __init__(
        self,
        *,
        min_length: int | None = None,
        max_length: int | None = None,
        trim_whitespace: bool = False,
        allow_blank: bool = False,
        **kwargs: Any,
    ) -> None:
        for label, n in (("min_length", min_length), ("max_length", max_length)):
            if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 0):
                raise ValueError(f"{label} must be a non-negative int, not {n!r}")
        if min_length is not None and max_length is not None and min_length > max_length:
            raise ValueError(f"min_length {min_length} is greater than max_length {max_length}")
        self.min_length = min_length
        self.max_length = max_length
        self.trim_whitespace = trim_whitespace
        self.allow_blank = allow_blank
        super().__init__(**kwargs)

    def wrap_load(self, load: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
        if not self.trim_whitespace:
            return load
        if load is None:
            return lambda v: v.strip() if isinstance(v, str) else v

        def trimmed(v: Any) -> Any:
            v = load(v)
            return v.strip() if isinstance(v, str) else v

        return trimmed

    def effective_min_length(self) -> int | None:
        if not self.allow_blank and not self.min_length:
            return 1
        return self.min_length

    def constraint_checks(self) -> list[Check]:
        checks = super().constraint_checks()
        lo = self.min_length or 0
        hi = self.max_length
        blank_ok = self.allow_blank
        if lo or hi is not None or not blank_ok:
            rule_lo, rule_hi = f"length must be >= {lo}", f"length must be <= {hi}"

            def lengths(v: Any) -> Problem | None:
                n = len(v)
                if not n and not blank_ok:
                    return ("", "must not be blank", v)
                if n < lo:
                    return ("", rule_lo, v)
                if hi is not None and n > hi:
                    return ("", rule_hi, v)
                return None

            checks.append(lengths)
        return checks


class StringField(CharField):
    """A ``str`` field; ``pattern`` is a regex the value must contain (``re.search``)."""

    def __init__(self, *, pattern: str | None = None, **kwargs: Any) -> None:
        self.pattern = pattern
        self._regex = re.compile(pattern) if pattern is not None else None
        super().__init__(**kwargs)

    def fast_accept(self) -> Callable[[Any], bool] | None:
        if typeexpr.inner(self.node).kind != "str":
            return None
        lo = self.effective_min_length() or 0
        hi = self.max_length if self.max_length is not None else _INF
        if self._regex is None:
            return lambda v: type(v) is str and lo <= len(v) <= hi
        search = self._regex.search
        return lambda v: type(v) is str and lo <= len(v) <= hi and search(v) is not None

    def constraint_checks(self) -> list[Check]:
        checks = super().constraint_checks()
        if self._regex is not None:
            search = self._regex.search
            rule = f"must match pattern {self.pattern!r}"
            checks.append(lambda v: None if search(v) else ("", rule, v))
        return checks

    def schema_constraints(self) -> dict[str, Any]:
        out = super().schema_constraints()
        lo = self.effective_min_length()
        if lo:
            out["minLength"] = lo
        if self.max_length is not None:
            out["maxLength"] = self.max_length
        if self.pattern is not None:
            out["pattern"] = self.pattern
        return out


class BytesField(CharField):
    """A ``bytes`` field (base64 text on the wire)."""
