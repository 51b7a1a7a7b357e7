"""The ``tables:`` section of a pipeline file: check it, then declare the tables on the App.

```yaml
tables:
  orders_per_customer: {default: int}                    # kind: table (the default)
  revenue: {default: float, help: revenue per customer}
  last_order: {default: {total: 0, items: []}}            # a literal: a fresh copy per key
  products: {kind: set, value_type: str}                  # SetTable
  countries: {kind: global, changelog_topic: countries}   # GlobalTable, read-only
  per_minute: {default: int, window: {tumbling: 1m}, emit: {on: close, to: counts}}
```

``window:`` and ``emit:`` are checked and built by :mod:`streamctl.pipeline.windowspec`.

``default`` is a factory name (int, float, str, list, dict, set) or a literal
(number, string, list, mapping): the table's default is then a function that
returns a fresh deep copy of it. Set tables always default to the empty set.
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from streamctl.exceptions import ConfigurationError
from streamctl.models.yamltypes import any_case
from streamctl.pipeline.errors import Problem
from streamctl.pipeline.keys import TABLE_KEYS
from streamctl.pipeline.windowspec import EmitDef, WindowDef, read_emit, read_window

if TYPE_CHECKING:
    from streamctl.app import App
    from streamctl.pipeline.spec import Checker, PipelineSpec
    from streamctl.pipeline.yamlpos import Path_

#: kind -> the App method that declares it
KINDS = {
    "table": "Table",
    "global": "GlobalTable",
    "set": "SetTable",
    "set_global": "SetGlobalTable",
}
FACTORIES: dict[str, Callable[[], Any]] = {
    "int": int,
    "float": float,
    "str": str,
    "list": list,
    "dict": dict,
    "set": set,
}
#: a word that starts with a factory name but is not one (``floaty``, ``integer``,
#: ``String``): a mistyped factory, refused rather than taken as a text literal
MISTYPED_FACTORY = re.compile("^(?:" + "|".join(any_case(f) for f in FACTORIES) + ")[A-Za-z0-9_]*$")
#: the JSON Schema of ``default:``, as :func:`_read_default` checks it
DEFAULT_SCHEMA: dict[str, Any] = {
    "description": TABLE_KEYS["default"]["description"],
    "anyOf": [
        {"enum": list(FACTORIES)},
        {"type": ["number", "boolean", "array", "object"]},
        {"type": "string", "not": {"pattern": MISTYPED_FACTORY.pattern}},
    ],
}


@dataclass
class TableDef:
    name: str
    kind: str = "table"
    default: Callable[[], Any] | None = None
    key_type: str | None = None
    value_type: str | None = None
    partitions: int | None = None
    help: str | None = None
    changelog_topic: str | None = None
    path: Path_ = ()
    #: the ``default:`` as written (a factory name or a literal), None when absent
    default_raw: Any = None
    window: WindowDef | None = None
    emit: EmitDef | None = None

    @property
    def is_set(self) -> bool:
        return self.kind in ("set", "set_global")

    @property
    def is_global(self) -> bool:
        return self.kind in ("global", "set_global")


def _literal(value: Any) -> Callable[[], Any]:
    if isinstance(value, (dict, list)):
        return lambda: copy.deepcopy(value)
    return lambda: value


def read_tables(c: Checker, raw: Any) -> dict[str, TableDef]:
    """Check the ``tables:`` mapping; every mistake becomes a Problem with its position."""
    from streamctl.pipeline.spec import NAME, _hint

    out: dict[str, TableDef] = {}
    tables = c.mapping(raw, ("tables",), "tables")
    for name, body in tables.items():
        path: Path_ = ("tables", name)
        if not isinstance(name, str) or not NAME.match(name):
            c.error(path + ("<key>",), f"invalid table name {name!r} (letters, digits, . _ - only)")
            continue
        body = c.mapping(body, path, f"table {name!r}")
        c.unknown_keys(body, TABLE_KEYS, path, f"table {name!r}")
        kind = c.declared(body, "kind", TABLE_KEYS, path)
        if kind not in KINDS:
            c.error(
                path + ("kind",),
                f"unknown table kind {kind!r} (known: {', '.join(KINDS)})" + _hint(kind, KINDS),
            )
            kind = "table"
        t = TableDef(
            name=name,
            kind=kind,
            key_type=c.declared(body, "key_type", TABLE_KEYS, path),
            value_type=c.declared(body, "value_type", TABLE_KEYS, path),
            partitions=c.declared(body, "partitions", TABLE_KEYS, path),
            help=c.declared(body, "help", TABLE_KEYS, path),
            changelog_topic=c.declared(body, "changelog_topic", TABLE_KEYS, path),
            path=path,
        )
        if "default" in body:
            t.default = _read_default(c, t, body["default"], path + ("default",))
            t.default_raw = body["default"]
        if "window" in body:
            if kind != "table":
                c.error(path + ("window",), f"table {name!r}: only kind: table can be windowed")
            else:
                t.window = read_window(c, body["window"], path + ("window",), name)
        if "emit" in body:
            t.emit = read_emit(c, body["emit"], path + ("emit",), name)
            if "window" not in body:
                c.error(path + ("emit",), f"table {name!r}: emit needs a window")
        out[name] = t
    return out


def _read_default(c: Checker, t: TableDef, value: Any, path: Path_) -> Callable[[], Any] | None:
    if t.is_set:
        c.error(path, f"table {t.name!r}: set tables always default to the empty set")
        return None
    if value is None:
        c.error(
            path,
            "default must be a factory ("
            + ", ".join(FACTORIES)
            + ") or a literal value, not empty",
        )
        return None
    if isinstance(value, str) and value in FACTORIES:
        return FACTORIES[value]
    close = (
        difflib.get_close_matches(value.lower(), list(FACTORIES), n=1, cutoff=0.6)
        or [f for f in FACTORIES if value.lower().startswith(f)][-1:]
        if isinstance(value, str) and MISTYPED_FACTORY.match(value)
        else difflib.get_close_matches(value, list(FACTORIES), n=1, cutoff=0.75)
        if isinstance(value, str)
        else []
    )
    if close:
        c.error(
            path,
            f"unknown default factory {value!r} (did you mean {close[0]!r}?); "
            "factories: " + ", ".join(FACTORIES),
        )
        return None
    if isinstance(value, (bool, int, float, str, list, dict)):
        return _literal(value)
    c.error(path, f"default must be a factory name or a literal, not {type(value).__name__}")
    return None


def build_tables(
    spec: PipelineSpec, app: App, models: dict[str, Any], problems: list[Problem]
) -> None:
    """Declare every table on ``app`` (after its topics, before its agents)."""
    from streamctl.pipeline.build import SCALAR_TYPES
    from streamctl.pipeline.spec import _hint

    check_accumulated_defaults(spec, problems)
    inferred = infer_partitions(spec)
    for t in spec.tables.values():
        options: dict[str, Any] = {"help": t.help}
        for side in ("key", "value"):
            type_name = getattr(t, f"{side}_type")
            if type_name is None:
                continue
            if type_name in models:
                options[f"{side}_type"] = models[type_name]
            elif type_name in SCALAR_TYPES:
                options[f"{side}_type"] = SCALAR_TYPES[type_name][0]
            else:
                known = ", ".join([*SCALAR_TYPES, *models])
                problems.append(
                    spec.located.problem(
                        t.path + (f"{side}_type",),
                        f"unknown type {type_name!r} (known: {known})"
                        + _hint(type_name, [*SCALAR_TYPES, *models]),
                    )
                )
        if t.default is not None:
            options["default"] = t.default
        partitions = t.partitions or inferred.get(t.name)
        if partitions is not None:
            options["partitions"] = partitions
        if t.changelog_topic is not None:
            options["changelog_topic"] = app.topics.get(t.changelog_topic) or app.topic(
                t.changelog_topic, partitions=partitions, compacting=True, internal=True
            )
        if t.window is not None:
            options["window"] = t.window.build()
            options["on_late"] = t.window.late
        try:
            table = getattr(app, KINDS[t.kind])(t.name, **options)
        except ConfigurationError as exc:
            problems.append(spec.located.problem(t.path, str(exc)))
            continue
        if t.window is not None:
            build_window_options(app, table, t)


def build_window_options(app: App, table: Any, t: TableDef) -> None:
    """A windowed table's event-time field and emit topic."""
    assert t.window is not None
    if t.window.time is not None:
        table.use_event_time(t.window.time, t.window.time_unit)
    if t.emit is not None:
        topic = app.topics.get(t.emit.to) or app.topic(t.emit.to)
        table.emit_windows(topic, on=t.emit.on)


#: what a ``count``/``add`` step may start from: factories and literal types
_NUMERIC_FACTORIES = {"int", "float"}


def check_accumulated_defaults(spec: PipelineSpec, problems: list[Problem]) -> None:
    """A problem for each table a ``count``/``add`` step adds into whose default is not a
    number (``"n/a"`` or ``str``: ``table[key] += 1`` would raise for every event)."""
    for agent in spec.agents.values():
        for i, step in enumerate(agent.steps):
            if not isinstance(step, dict) or len(step) != 1:
                continue
            ((kind, arg),) = step.items()
            if kind not in ("count", "add"):
                continue
            name = arg.get("table") if isinstance(arg, dict) else arg
            t = spec.tables.get(name) if isinstance(name, str) else None
            if t is None or t.default is None or t.is_set:
                continue
            raw = t.default_raw
            numeric = (
                raw in _NUMERIC_FACTORIES
                if isinstance(raw, str)
                else isinstance(raw, (int, float)) and not isinstance(raw, bool)
            )
            if numeric:
                continue
            problems.append(
                spec.located.problem(
                    t.path + ("default",),
                    f"table {t.name!r} has default {raw!r}, not a number, but agent "
                    f"{agent.name!r} step {i + 1} ({kind}) adds into it: "
                    "use default: int, float or a number",
                )
            )


def infer_partitions(spec: PipelineSpec) -> dict[str, int]:
    """Partitions for tables declared without them: those of the topic whose steps write them.

    A table must be partitioned like the stream that writes it (co-partitioning);
    a group_by keeps the source topic's partition count.
    """
    out: dict[str, int] = {}
    for t in spec.tables.values():
        log = spec.topics.get(t.changelog_topic or "")
        if log is not None and log.partitions is not None:
            out[t.name] = log.partitions  # a declared changelog topic decides
    for agent in spec.agents.values():
        topic = spec.topics.get(agent.source)
        if topic is None or topic.partitions is None:
            continue
        for step in agent.steps:
            if not isinstance(step, dict) or len(step) != 1:
                continue
            ((kind, arg),) = step.items()
            table = arg.get("table") if isinstance(arg, dict) else None
            if kind == "count" and isinstance(arg, str):
                table = arg
            if isinstance(table, str):
                out.setdefault(table, topic.partitions)
    # the worker checks every table against every source topic: when those agree,
    # a table no step writes (a plugin agent's, say) gets their count too
    counts = {
        spec.topics[a.source].partitions for a in spec.agents.values() if a.source in spec.topics
    }
    if len(counts) == 1 and None not in counts:
        (n,) = counts
        assert n is not None
        for name, t in spec.tables.items():
            if not t.is_global:
                out.setdefault(name, n)
    return out
