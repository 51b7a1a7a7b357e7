"""A table's ``window:`` and ``emit:`` in a pipeline file: check them, build the Window.

```yaml
tables:
  views_per_minute:
    default: int
    window: {tumbling: 1m, expires: 1h, grace: 10s, time: viewed_at, late: drop}
    emit: {on: close, to: pageviews-per-minute}
```

One window kind: ``tumbling: SIZE``, ``hopping: {size, step}``, ``sliding: {before,
after}`` (with ``expires``, required by Faust's SlidingWindow) or ``session: {gap}``
(Kafka Streams' session windows). Durations are seconds
(a number) or a number and a unit (``90s``, ``1m``, ``1d``, ``250ms``), or units largest
first, each once (``1h30m``; ``1m1m`` is refused). ``time`` names
the value's field holding event time (datetime, ISO string, epoch s or ms; default:
the record timestamp), ``time_unit`` (``s`` or ``ms``) declares a number's unit, and
``late`` is ``drop`` (counted) or ``dead_letter`` (to the agent's dead-letter topic,
with the reason). ``emit.on`` is ``close`` (each window's final value once, when it
closes) or ``update`` (after every change); ``emit.to`` is the topic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from streamctl.pipeline.expressions import duration
from streamctl.pipeline.keys import EMIT_KEYS, WINDOW_KEYS

if TYPE_CHECKING:
    from streamctl.pipeline.spec import Checker
    from streamctl.pipeline.yamlpos import Path_
    from streamctl.tables.windows.ranges import Window

WINDOW_KINDS = ("tumbling", "hopping", "sliding", "session")
#: the fields of each kind given as a mapping
KIND_FIELDS = {"hopping": ("size", "step"), "sliding": ("before", "after"), "session": ("gap",)}


def parse_duration(value: Any) -> float:
    """Seconds (>= 0, at most 100 years) from a number or text like ``1h30m`` (the shared
    :func:`~streamctl.pipeline.expressions.duration` rules); ValueError with the reason."""
    from streamctl.tables.windows.ranges import MAX_SECONDS

    seconds = duration(value)
    if seconds < 0:
        raise ValueError(f"a duration must be >= 0, not {value}")
    if not math.isfinite(seconds) or seconds > MAX_SECONDS:
        raise ValueError(f"a duration must be at most 100 years (36500d), not {value!r}")
    return seconds


@dataclass
class WindowDef:
    """A checked ``window:``: the kind, its durations in seconds and the options."""

    kind: str
    sizes: dict[str, float]
    expires: float | None = None
    grace: float | None = None
    time: str | None = None
    time_unit: str | None = None
    late: str = "drop"

    def build(self) -> Window:
        from streamctl.tables.windows.ranges import (
            HoppingWindow,
            SessionWindow,
            SlidingWindow,
            TumblingWindow,
        )

        s = self.sizes
        if self.kind == "tumbling":
            return TumblingWindow(s["size"], self.expires, grace=self.grace)
        if self.kind == "hopping":
            return HoppingWindow(s["size"], s["step"], self.expires, grace=self.grace)
        if self.kind == "session":
            return SessionWindow(s["gap"], self.expires, grace=self.grace)
        return SlidingWindow(s["before"], s["after"], self.expires, grace=self.grace)


@dataclass
class EmitDef:
    on: str
    to: str
    #: where ``to`` is in the file
    path: Path_ = ()


def _duration(c: Checker, value: Any, path: Path_) -> float | None:
    try:
        return parse_duration(value)
    except ValueError as exc:
        c.error(path, str(exc))
        return None


def read_window(c: Checker, raw: Any, path: Path_, table: str) -> WindowDef | None:
    """Check a table's ``window:`` mapping; each mistake is a Problem at its position."""
    body = c.mapping(raw, path, f"table {table!r} window")
    if not body:
        if raw is not None and not isinstance(raw, dict):
            return None  # c.mapping said why
        c.error(
            path, f"table {table!r}: window is empty; give tumbling, hopping, sliding or session"
        )
        return None
    c.unknown_keys(body, WINDOW_KEYS, path, f"table {table!r} window")
    kinds = [k for k in WINDOW_KINDS if k in body]
    if len(kinds) != 1:
        c.error(
            path,
            f"table {table!r}: window needs exactly one of tumbling, hopping, sliding or session"
            + (f", not {' and '.join(kinds)}" if kinds else ""),
        )
        return None
    kind = kinds[0]
    sizes: dict[str, float] = {}
    if kind == "tumbling":
        size = _duration(c, body[kind], path + (kind,))
        if size is not None:
            sizes["size"] = size
    else:
        fields = KIND_FIELDS[kind]
        spec = c.mapping(body[kind], path + (kind,), f"{kind} window")
        if not isinstance(body[kind], dict):
            return None  # c.mapping said why; "needs gap" would be the same mistake again
        c.unknown_keys(spec, fields, path + (kind,), f"{kind} window")
        for name in fields:
            if name not in spec:
                c.error(path + (kind,), f"{kind} window needs {name}")
                continue
            d = _duration(c, spec[name], path + (kind, name))
            if d is not None:
                sizes[name] = d
    w = WindowDef(kind=kind, sizes=sizes)
    for opt in ("expires", "grace"):
        if opt in body:
            setattr(w, opt, _duration(c, body[opt], path + (opt,)))
    w.time = c.declared(body, "time", WINDOW_KEYS, path)
    w.time_unit = c.declared(body, "time_unit", WINDOW_KEYS, path)
    if w.time_unit not in (None, "s", "ms"):
        c.error(path + ("time_unit",), f"time_unit must be s or ms, not {w.time_unit!r}")
    w.late = c.declared(body, "late", WINDOW_KEYS, path)
    if w.late not in ("drop", "dead_letter"):
        c.error(path + ("late",), f"late must be drop or dead_letter, not {w.late!r}")
        w.late = "drop"  # reported once, here: the table is not built with it
    if kind == "sliding" and w.expires is None:
        c.error(
            path, "a sliding window needs expires (Faust's SlidingWindow(before, after, expires))"
        )
    needed = {"tumbling": ("size",), **KIND_FIELDS}[kind]
    if any(n not in sizes for n in needed):
        return None
    try:
        w.build()
    except Exception as exc:  # ConfigurationError: size 0, step > size
        c.error(path + (kind,), f"table {table!r}: {exc}")
        return None
    return w


def read_emit(c: Checker, raw: Any, path: Path_, table: str) -> EmitDef | None:
    """Check a table's ``emit:`` mapping."""
    body = c.mapping(raw, path, f"table {table!r} emit")
    # YAML 1.1 reads a bare ``on`` key as true
    on_key: Any = True if True in body and "on" not in body else "on"
    c.unknown_keys(body, EMIT_KEYS.keys() | {on_key}, path, f"table {table!r} emit")
    on = body.get(on_key, "close")
    if on not in ("close", "update"):
        c.error(path + (on_key,), f"emit on must be close or update, not {on!r}")
        return None
    to = c.declared(body, "to", EMIT_KEYS, path)
    if to is None:
        c.error(path, f"table {table!r}: emit needs to: TOPIC")
        return None
    return EmitDef(on=on, to=to, path=path + ("to",))


def check_emit_topics(c: Checker, tables: Any, topics: Any) -> None:
    """Each windowed table's ``emit.to`` names a declared topic (a positioned error if not,
    as for an agent's unknown ``to``)."""
    from streamctl.pipeline.spec import _hint

    for t in tables.values():
        emit = t.emit
        if emit is not None and emit.to not in topics:
            c.error(
                emit.path,
                f"table {t.name!r} emits to undeclared topic {emit.to!r}" + _hint(emit.to, topics),
            )
