"""Steps that join, route or deduplicate: lookup (a stream-table join), branch, dedupe.

```yaml
  - lookup: {table: products, key: product_id, as: product, on_missing: skip}
  - branch:
      - when: "total >= 100"
        to: big-orders                     # or to: [a, b]
      - when: "country == 'NL'"
        steps: [{map: {vat: "total * 0.21"}}, {to: nl-orders}]
      - default: true                      # optional: what no case took (else dropped)
        to: other-orders
  - dedupe: {key: order_id, within: 10m, table: seen_orders}
```
"""

from __future__ import annotations

from typing import Any

from streamctl.events import _current
from streamctl.exceptions import StreamctlError
from streamctl.pipeline.expressions import duration
from streamctl.pipeline.stepchain import DROP, StepFn
from streamctl.pipeline.stepkinds import _FIELD, _as_dict
from streamctl.pipeline.steps import Step, nested_chain
from streamctl.pipeline.steptables import EXPR

ON_MISSING = ("skip", "default", "dead_letter")


class LookupMissing(StreamctlError, LookupError):
    """A lookup found no row and its ``on_missing`` is ``dead_letter``: the record is parked."""


def _keys(step: Step, known: set[str], required: set[str]) -> dict[str, Any] | None:
    arg, ctx = step.arg, step.ctx
    if not isinstance(arg, dict):
        ctx.error(f"{step.name} takes {{{', '.join(sorted(required))}, ...}}")
        return None
    for k in arg:
        if k not in known:
            ctx.error(
                f"unknown key {k!r} in {step.name} (known: {', '.join(sorted(known))})",
                (k, "<key>"),
            )
    for k in sorted(required - set(arg)):
        ctx.error(f"{step.name} needs {k}:")
    return None if ctx.problems else arg


class Lookup(Step):
    """``lookup: {table, as, key, on_missing, default}``: set field ``as`` to ``table[key]``
    (Kafka Streams' stream-table join). ``key`` (an expression; default the event's key)
    needs a global table: a partitioned table holds only this worker's keys, so it is read
    by the event's key (group_by first). No row: ``on_missing: default`` (the default) sets
    ``default`` (an expression, null if left out; a left join), ``skip`` drops the record
    (an inner join), ``dead_letter`` parks it (the agent needs a dead_letter topic)."""

    name = "lookup"
    schema = {
        "type": "object",
        "properties": {
            "table": {"type": "string", "description": "a table or global table"},
            "key": {**EXPR, "description": "the key to read (default: the event's key)"},
            "as": {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]*$"},
            "on_missing": {"enum": list(ON_MISSING), "default": "default"},
            "default": EXPR,
        },
        "required": ["table", "as"],
        "additionalProperties": False,
    }

    def build(self) -> StepFn | None:
        ctx = self.ctx
        arg = _keys(self, set(self.schema["properties"]), {"table", "as"})
        if arg is None:
            return None
        name, field = arg["table"], arg["as"]
        if not isinstance(field, str) or not _FIELD.match(field):
            ctx.error(f"lookup: as: {field!r} is not a field name", ("as",))
        on_missing = arg.get("on_missing", "default")
        if on_missing not in ON_MISSING:
            ctx.error(f"lookup: on_missing must be one of {', '.join(ON_MISSING)}", ("on_missing",))
        if "default" in arg and on_missing != "default":
            ctx.error("lookup: default: is used only with on_missing: default", ("default",))
        if on_missing == "dead_letter" and not ctx.agent.dead_letter:
            ctx.error(
                "lookup: on_missing: dead_letter needs the agent's dead_letter: topic",
                ("on_missing",),
            )
        table = None
        try:
            table = ctx.read_table(name) if isinstance(name, str) else None
        except KeyError as exc:
            ctx.error(f"lookup: {exc.args[0]}", ("table",))
        if table is None and isinstance(name, str) is False:
            ctx.error("lookup: table must be a table name", ("table",))
        tdef = ctx.spec.tables.get(name) if isinstance(name, str) else None
        if tdef is not None and "key" in arg and not tdef.is_global:
            ctx.error(
                f"lookup by a key expression needs a global table (kind: global); {name!r} "
                "is partitioned like its stream: leave key out and group_by the key first",
                ("key",),
            )
        key = ctx.expr(arg["key"], ("key",)) if "key" in arg else None
        default = ctx.expr(arg["default"], ("default",)) if "default" in arg else None
        if ctx.problems or table is None:
            return None
        return _lookup(table, name, field, key.fn if key else None, on_missing, default)


def _lookup(table: Any, name: str, field: str, key_fn: Any, on_missing: str, default: Any) -> Any:
    get, missing = table.get, object()
    dfl = default.fn if default is not None else (lambda v, k: None)

    def lookup(v: Any, k: Any) -> Any:
        key = k if key_fn is None else key_fn(v, k)
        row = missing if key is None else get(key, missing)
        if row is missing:
            if on_missing == "skip":
                return DROP
            if on_missing == "dead_letter":
                raise LookupMissing(f"lookup: no row for key {key!r} in table {name!r}")
            row = dfl(v, k)
        new = _as_dict(v)
        new[field] = row
        return new

    return lookup


_CASE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "when": EXPR,
        "default": {"const": True},
        "to": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        "steps": {"type": "array", "items": {"type": "object"}},
    },
    "oneOf": [{"required": ["when"]}, {"required": ["default"]}],
    "additionalProperties": False,
}


class Branch(Step):
    """``branch: [{when: expr, to: topics | steps: [...]}, ..., {default: true, ...}]``:
    each record takes the first case whose ``when`` is true (Kafka Streams' ``split()``
    and ``branch()``), or the ``default`` case; with no default it is dropped. A case sends
    the record ``to`` its topics, or runs its own ``steps`` (no group_by). No step may
    follow a branch; the agent's sinks get the value the case ends with."""

    name = "branch"
    role = "final"
    schema = {"type": "array", "minItems": 1, "items": _CASE}

    def build(self) -> StepFn | None:
        ctx, arg = self.ctx, self.arg
        if not isinstance(arg, list) or not arg:
            ctx.error("branch takes a list of cases: {when: expression, to: topic | steps: [...]}")
            return None
        cases: list[tuple[Any, StepFn]] = []
        for i, case in enumerate(arg):
            if not isinstance(case, dict):
                ctx.error("a branch case is {when: expression, to: topic | steps: [...]}", (i,))
                continue
            for k in case:
                if k not in _CASE["properties"]:
                    ctx.error(
                        f"unknown key {k!r} in a branch case (known: default, steps, to, when)",
                        (i, k, "<key>"),
                    )
            is_default = "default" in case
            if is_default == ("when" in case):
                ctx.error("a branch case has when: expression or default: true (one)", (i,))
                continue
            if is_default and (case["default"] is not True or i != len(arg) - 1):
                ctx.error("default: true is the last branch case", (i, "default"))
                continue
            if ("to" in case) == ("steps" in case):
                ctx.error("a branch case has to: topic or steps: [...] (one)", (i,))
                continue
            when = None if is_default else ctx.expr(case["when"], (i, "when"))
            if "to" in case:
                run = _send_to(ctx, case["to"], (i, "to"))
            else:
                run = nested_chain(ctx, case["steps"], (i, "steps"))
            if run is not None and (is_default or when is not None):
                cases.append((None if when is None else when.fn, run))
        if ctx.problems:
            return None
        table = tuple(cases)

        def branch(v: Any, k: Any) -> Any:
            for when, run in table:
                if when is None or when(v, k):
                    return run(v, k)
            return DROP

        return branch


def _send_to(ctx: Any, topics: Any, sub: Any) -> StepFn | None:
    """A branch case's ``to:``, queuing in the agent's outbox (the chain sends it)."""
    from streamctl.pipeline.stepkinds import To

    here = ctx.child(ctx.path + sub)
    step = To(here, topics)
    fn = step.build()
    ctx.problems.extend(here.problems)
    if fn is None:
        return None
    ctx.flags["nested_outputs"] = True
    return step.deferred(ctx.outbox)


class Dedupe(Step):
    """``dedupe: {table, within, key}``: drop a record whose ``key`` (an expression; default
    the event's key) was seen less than ``within`` ago (a duration: ``10m``, ``1h`` or
    seconds) by event time. ``table`` (a table the agent writes) keeps each key's first
    time in milliseconds, so the window survives restarts; rows are not expired."""

    name = "dedupe"
    role = "effect"
    schema = {
        "type": "object",
        "properties": {
            "table": {"type": "string"},
            "within": {"type": ["string", "number"], "description": "e.g. 10m, 1h30m, 60"},
            "key": EXPR,
        },
        "required": ["table", "within"],
        "additionalProperties": False,
    }

    def build(self) -> StepFn | None:
        ctx = self.ctx
        arg = _keys(self, set(self.schema["properties"]), {"table", "within"})
        if arg is None:
            return None
        window = None
        try:
            window = duration(arg["within"])
        except ValueError as exc:
            ctx.error(f"dedupe: {exc}", ("within",))
        if window is not None and window <= 0:
            ctx.error("dedupe: within must be more than 0", ("within",))
        table = ctx.table(arg["table"], ("table",), want="table", step="dedupe")
        key = ctx.expr(arg["key"], ("key",)) if "key" in arg else None
        if ctx.problems or table is None or window is None:
            return None
        if key is None:
            ctx.keyed_by_event(table)
        key_fn, ms = (key.fn if key else None), int(window * 1000)
        get, put, event = table.get, table.__setitem__, _current.get

        def dedupe(v: Any, k: Any) -> Any:
            kk = k if key_fn is None else key_fn(v, k)
            now = event()[2][5]  # type: ignore[index]  # the record time, milliseconds
            first = get(kk)
            if first is not None and 0 <= now - first < ms:
                return DROP
            put(kk, now)
            return v

        return dedupe
