"""The functions an expression may call by name, with the number of arguments each takes.

Times are seconds since the epoch (UTC, a float), durations are seconds: ``now()``,
``parse_time('2026-12-07T10:00:00Z')``, ``format_time(t, '%Y-%m-%d')``, ``epoch(t)``,
``duration('1h30m')``, ``t - minutes(5)``. String functions refuse a value that is not
text (ValueError naming the function and the type: the event is dead-lettered); a
missing field stays ``None``.
"""

from __future__ import annotations

import json
import math
import re
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from streamctl.pipeline.expressions.runtime import MAX_REPEAT, bounded


def _coalesce(*args: Any) -> Any:
    for a in args:
        if a is not None:
            return a
    return None


def _text(name: str, s: Any) -> bool:
    """True for text, False for None (a missing field); ValueError for anything else."""
    if isinstance(s, str):
        return True
    if s is None:
        return False
    raise ValueError(f"{name}() needs text, not {type(s).__name__}; convert it with str()")


def _str_fn(method: str) -> Callable[..., Any]:
    def fn(s: Any, *args: Any) -> Any:
        return getattr(s, method)(*args) if _text(method, s) else None

    fn.__name__ = method
    return fn


def _split(s: Any, sep: Any = None, most: int = -1) -> Any:
    if not _text("split", s):
        return None
    if most < 0 or most > MAX_REPEAT:
        most = MAX_REPEAT
    return s.split(sep, most)


def _join(items: Any, sep: str = "") -> Any:
    if items is None:
        return None
    return bounded(sep.join(str(i) for i in items))


def _replace(s: Any, old: str, new: str) -> Any:
    if not _text("replace", s):
        return None
    if old and len(new) > len(old) and s.count(old) * (len(new) - len(old)) > MAX_REPEAT:
        raise ValueError(f"replace() would build a string longer than {MAX_REPEAT:,}")
    return bounded(s.replace(old, new))


def _startswith(s: Any, prefix: Any) -> bool:
    return _text("startswith", s) and s.startswith(prefix)


def _endswith(s: Any, suffix: Any) -> bool:
    return _text("endswith", s) and s.endswith(suffix)


def _digit_limited(fn: Callable[[Any], Any], refusal: str) -> Callable[[Any], Any]:
    """``fn`` (``str`` or ``int``) with Python's integer digit limit refused as ``refusal``
    (``{limit}`` filled in), in our words rather than Python's advice."""

    def wrapped(x: Any) -> Any:
        try:
            return fn(x)
        except ValueError as exc:
            if "Exceeds the limit" not in str(exc):
                raise
            limit = sys.get_int_max_str_digits()
            raise ValueError(refusal.format(limit=limit)) from None

    wrapped.__name__ = fn.__name__
    return wrapped


def _num(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def wrapped(x: Any) -> Any:
        return None if x is None else fn(x)

    wrapped.__name__ = fn.__name__
    return wrapped


def parse_time(s: Any) -> Any:
    """ISO 8601 text (``2026-12-07T10:00:00Z``, naive means UTC) to epoch seconds; None stays."""
    if s is None:
        return None
    if not isinstance(s, str):
        raise ValueError(f"parse_time() needs ISO 8601 text, not {type(s).__name__}")
    dt = datetime.fromisoformat(s.strip().replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def epoch(t: Any) -> Any:
    """Epoch seconds of a number (itself), ISO text (parsed) or a datetime; None stays."""
    if t is None or isinstance(t, bool):
        return None if t is None else float(t)
    if isinstance(t, (int, float)):
        return t
    if isinstance(t, datetime):
        return (t if t.tzinfo else t.replace(tzinfo=timezone.utc)).timestamp()
    return parse_time(t)


def format_time(t: Any, fmt: str = "%Y-%m-%dT%H:%M:%SZ") -> Any:
    """Epoch seconds (or ISO text) formatted in UTC with ``strftime`` directives."""
    seconds = epoch(t)
    if seconds is None:
        return None
    if len(fmt) > 200:
        raise ValueError("format_time() format is longer than 200 characters")
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime(fmt)


_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}
#: units largest first: ``1h30m`` is a duration, ``1m1m`` and ``30m1h`` are not
_ORDER = list(_UNITS)
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
DURATION_HINT = "give seconds (90) or a number and a unit (90s, 1m, 250ms), or units largest first, each once (1h30m)"


def duration(text: Any) -> float:
    """``'1h30m'``, ``'500ms'``, ``'2d'`` (units ms s m h d w) to seconds; a number is seconds.

    The one duration parser (windows, ``dedupe.within``, the ``duration()`` function):
    text is numbers with units, largest unit first and each unit once, so a typo such as
    ``1m1m`` is refused rather than read as 120 s. Raises ValueError with the reason.
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{text!r} is not a duration: {DURATION_HINT}")
    s = text.strip().replace(" ", "")
    pos, total, last = 0, 0.0, -1
    for m in _DURATION.finditer(s):
        rank = _ORDER.index(m.group(2))
        if m.start() != pos or rank <= last:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos, last = m.end(), rank
    if pos != len(s):
        raise ValueError(f"{text!r} is not a duration: {DURATION_HINT}")
    return total


def _unit(seconds: float) -> Callable[[Any], Any]:
    return lambda n: None if n is None else n * seconds


def _json(x: Any) -> Any:
    """JSON text (str or bytes) parsed; anything else serialized to JSON text."""
    if isinstance(x, (str, bytes)):
        return json.loads(x)
    return bounded(json.dumps(x, default=str, separators=(",", ":")))


#: name -> (function, fewest arguments, most arguments or None for any)
FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int | None]] = {
    "len": (_num(len), 1, 1),
    "abs": (_num(abs), 1, 1),
    "min": (min, 1, None),
    "max": (max, 1, None),
    "round": (round, 1, 2),
    "floor": (_num(math.floor), 1, 1),
    "ceil": (_num(math.ceil), 1, 1),
    "str": (_digit_limited(str, "number too large to convert to text (over {limit} digits)"), 1, 1),
    "int": (_digit_limited(int, "int(): text longer than {limit} digits"), 1, 1),
    "float": (float, 1, 1),
    "bool": (bool, 1, 1),
    "lower": (_str_fn("lower"), 1, 1),
    "upper": (_str_fn("upper"), 1, 1),
    "strip": (_str_fn("strip"), 1, 2),
    "split": (_split, 1, 3),
    "join": (_join, 1, 2),
    "replace": (_replace, 3, 3),
    "startswith": (_startswith, 2, 2),
    "endswith": (_endswith, 2, 2),
    "coalesce": (_coalesce, 1, None),
    "now": (time.time, 0, 0),
    "parse_time": (parse_time, 1, 1),
    "format_time": (format_time, 1, 2),
    "epoch": (epoch, 1, 1),
    "duration": (duration, 1, 1),
    "seconds": (_unit(1), 1, 1),
    "minutes": (_unit(60), 1, 1),
    "hours": (_unit(3600), 1, 1),
    "days": (_unit(86400), 1, 1),
    "json": (_json, 1, 1),
}
#: functions with side effects or a clock: never folded into a constant
NOT_CONSTANT = {"now"}
#: read a table: ``table('name')[key]``, ``lookup('name', key)`` or ``lookup('name', key,
#: default)``; the name must be a constant naming a declared table (see builder)
TABLE_FUNCTIONS = ("table", "lookup")
