"""Compose one field's validation: null handling, type check, constraints and the fast path."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from streamctl.models.typeexpr import Check, Problem


def never(value: Any) -> bool:
    """The fast predicate of a field without one: always defer to the full check."""
    return False


def field_check(
    type_check: Check | None,
    constraints: Sequence[Check],
    nullable: bool,
    fast: Callable[[Any], bool] | None,
) -> tuple[Check, Callable[[Any], bool]]:
    """(check, fast predicate) for one field.

    The check returns None or a Problem; the fast predicate is tried first on the decode
    path (one call for a valid value) and only says yes for values the check accepts.
    """
    full = _full_check(type_check, tuple(constraints), nullable)
    if fast is not None and nullable:
        not_null = fast

        def fast_or_none(v: Any) -> bool:
            return v is None or not_null(v)

        fast = fast_or_none
    if fast is None:
        return full, never
    accept = fast
    return (lambda v: None if accept(v) else full(v)), accept


def _full_check(type_check: Check | None, constraints: tuple[Check, ...], nullable: bool) -> Check:
    null: Problem | None = None if nullable else ("", "is required (null given)", None)
    if not constraints:
        if type_check is None:
            return lambda v: null if v is None else None
        tc = type_check
        return lambda v: null if v is None else tc(v)
    if len(constraints) == 1 and type_check is not None:
        tc, only = type_check, constraints[0]
        return lambda v: null if v is None else (tc(v) or only(v))

    def check(v: Any) -> Problem | None:
        if v is None:
            return null
        if type_check is not None:
            p = type_check(v)
            if p is not None:
                return p
        for c in constraints:
            p = c(v)
            if p is not None:
                return p
        return None

    return check


def choices_check(allowed: list[Any]) -> Check:
    """Values must be one of ``allowed``."""
    rule = f"must be one of {allowed!r}"
    return lambda v: None if v in allowed else ("", rule, v)


def user_validator(fn: Callable[[Any], Any]) -> Check:
    """A user's ``validator(value)``: raising ValueError/TypeError or returning False rejects."""
    name = getattr(fn, "__name__", "validator")

    def check(v: Any) -> Problem | None:
        try:
            ok = fn(v)
        except (ValueError, TypeError) as exc:
            return ("", f"rejected by {name}: {exc}", v)
        return ("", f"rejected by {name}", v) if ok is False else None

    return check
