"""DecimalField and its digit limits: the full check, a one-regex fast path, the schema pattern."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from streamctl.models import typeexpr
from streamctl.models.fields.scalars import NumberField
from streamctl.models.typeexpr import Check, Problem


class DecimalField(NumberField):
    """A ``Decimal`` field: at most ``max_digits`` digits, ``decimal_places`` after the point.

    ``max_decimal_places`` is accepted as Faust's spelling of ``decimal_places``.
    """

    def __init__(
        self,
        *,
        max_digits: int | None = None,
        decimal_places: int | None = None,
        max_decimal_places: int | None = None,
        **kwargs: Any,
    ) -> None:
        places = decimal_places if decimal_places is not None else max_decimal_places
        for label, n in (("max_digits", max_digits), ("decimal_places", places)):
            if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 0):
                raise ValueError(f"{label} must be a non-negative int, not {n!r}")
        if max_digits is not None and places is not None and places > max_digits:
            raise ValueError(f"decimal_places {places} exceeds max_digits {max_digits}")
        self.max_digits = max_digits
        self.decimal_places = places
        super().__init__(**kwargs)

    def fast_accept(self) -> Callable[[Any], bool] | None:
        if typeexpr.inner(self.node).kind != "decimal":
            return None
        if self.min_value is not None or self.max_value is not None:
            return None  # Decimal vs bound comparisons are not cheap: use the full check
        if self.max_digits is None and self.decimal_places is None:
            return lambda v: type(v) is Decimal and v.is_finite()
        return _fast_digits(self.max_digits, self.decimal_places)

    @property
    def max_decimal_places(self) -> int | None:
        return self.decimal_places

    def constraint_checks(self) -> list[Check]:
        checks = super().constraint_checks()
        if self.max_digits is not None or self.decimal_places is not None:
            checks.append(_digits_check(self.max_digits, self.decimal_places))
        return checks

    def schema_constraints(self) -> dict[str, Any]:
        out = super().schema_constraints()
        if self.max_digits is not None or self.decimal_places is not None:
            out["pattern"] = decimal_pattern(self.max_digits, self.decimal_places)
        return out


def decimal_pattern(max_digits: int | None, places: int | None) -> str:
    """A regex for decimal text within the digit limits (used in the JSON Schema)."""
    if max_digits is None:
        whole = "\\d+"
    else:
        n = max_digits - (places or 0)
        whole = "0" if n == 0 else f"\\d{{1,{n}}}"
    if places == 0:
        frac = ""
    elif places is None:
        frac = "(\\.\\d+)?" if max_digits is None else f"(\\.\\d{{1,{max_digits}}})?"
    else:
        frac = f"(\\.\\d{{1,{places}}})?"
    return f"^-?{whole}{frac}$"


def _fast_digits(max_digits: int | None, places: int | None) -> Callable[[Any], bool] | None:
    """Plain-notation decimals matching the schema pattern are valid (one regex in C);
    anything else (exponent notation, 0.x edge cases) goes to the full check."""
    if places is None:
        return None
    match = re.compile(decimal_pattern(max_digits, places)).match
    return lambda v: type(v) is Decimal and match(str(v)) is not None


def _digits_check(max_digits: int | None, places: int | None) -> Check:
    def check(v: Any) -> Problem | None:
        if not isinstance(v, Decimal) or not v.is_finite():
            return None
        text = str(v)  # much cheaper than as_tuple(); exponent notation is the rare case
        if "E" in text:
            t = v.as_tuple()
            exp = int(t.exponent)
            decimals = max(-exp, 0)
            digits = len(t.digits) + exp if exp >= 0 else max(len(t.digits), decimals)
        else:
            point = text.find(".")
            start = 1 if text[0] == "-" else 0
            if point < 0:
                decimals, whole = 0, len(text) - start
            else:
                decimals, whole = len(text) - point - 1, point - start
                if whole == 1 and text[start] == "0":
                    whole = 0
            digits = whole + decimals
        if places is not None and decimals > places:
            return ("", f"must have at most {places} decimal places", v)
        if max_digits is not None:
            if digits > max_digits:
                return ("", f"must have at most {max_digits} digits", v)
            if places is not None and digits - decimals > max_digits - places:
                whole_max = max_digits - places
                return ("", f"must have at most {whole_max} digits before the decimal point", v)
        return None

    return check
