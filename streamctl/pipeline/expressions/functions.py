"""The functions an expression may call by name, with the number of arguments each takes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _coalesce(*args: Any) -> Any:
    for a in args:
        if a is not None:
            return a
    return None


def _lower(s: Any) -> Any:
    return s.lower() if isinstance(s, str) else s


def _upper(s: Any) -> Any:
    return s.upper() if isinstance(s, str) else s


def _strip(s: Any) -> Any:
    return s.strip() if isinstance(s, str) else s


#: name -> (function, fewest arguments, most arguments or None for any)
FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int | None]] = {
    "len": (len, 1, 1),
    "abs": (abs, 1, 1),
    "min": (min, 1, None),
    "max": (max, 1, None),
    "round": (round, 1, 2),
    "str": (str, 1, 1),
    "int": (int, 1, 1),
    "float": (float, 1, 1),
    "bool": (bool, 1, 1),
    "lower": (_lower, 1, 1),
    "upper": (_upper, 1, 1),
    "strip": (_strip, 1, 1),
    "coalesce": (_coalesce, 1, None),
}
