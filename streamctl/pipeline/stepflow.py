"""Steps that join or route: lookup (a stream-table join) and branch (dedupe: stepdedupe).

```yaml
  - lookup: {table: products, key: product_id, as: product, on_missing: skip}
  - branch:
      - when: "total >= 100"
        to: big-orders                     # or to: [a, b]
      - when: "country == 'NL'"
        steps: [{map: {vat: "total * 0.21"}}, {to: nl-orders}]
      - default: true                      # optional: what no case took (else dropped)
        to: other-orders
```
"""

from __future__ import annotations

from typing import Any

from streamctl.exceptions import StreamctlError
from streamctl.pipeline.expressions.types import Shape
from streamctl.pipeline.stepchain import DROP, StepFn
from streamctl.pipeline.stepkinds import To, _as_dict
from streamctl.pipeline.steps import Step, nested_chain
from streamctl.pipeline.steptables import EXPR, TABLE_NAME

ON_MISSING = ("skip", "default", "dead_letter")


class LookupMissing(StreamctlError, LookupError):
    """A lookup found no row and its ``on_missing`` is ``dead_letter``: the record is parked."""


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
            "table": {**TABLE_NAME, "description": "a table or global table"},
            "key": {**EXPR, "description": "the key to read (default: the event's key)"},
            "as": {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]*$"},
            "on_missing": {"enum": list(ON_MISSING), "default": "default"},
            "default": EXPR,
        },
        "required": ["table", "as"],
        "additionalProperties": False,
    }

    def build(self) -> StepFn | None:
        ctx, arg = self.ctx, self.arg  # of the schema's shape (checked before)
        name, field = arg["table"], arg["as"]
        on_missing = arg.get("on_missing", "default")
        if "default" in arg and on_missing != "default":
            ctx.error("lookup: default: is used only with on_missing: default", ("default",))
        if on_missing == "dead_letter" and not ctx.agent.dead_letter:
            ctx.error(
                "lookup: on_missing: dead_letter needs the agent's dead_letter: topic",
                ("on_missing",),
            )
        table = None
        try:
            table = ctx.read_table(name)
        except KeyError as exc:
            ctx.error(f"lookup: {exc.args[0]}", ("table",))
        tdef = ctx.spec.tables.get(name)
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

    def shape_after(self, shape: Shape | None) -> Shape | None:
        return None if shape is None else {**shape, self.arg["as"]: None}


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
        "to": To.schema,
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
    keeps_shape = True
    schema = {"type": "array", "minItems": 1, "items": _CASE}

    def build(self) -> StepFn | None:
        ctx, arg = self.ctx, self.arg  # cases of the schema's shape (checked before)
        cases: list[tuple[Any, StepFn]] = []
        for i, case in enumerate(arg):
            is_default = "default" in case
            if is_default and i != len(arg) - 1:
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
    here = ctx.child(ctx.path + sub)
    step = To(here, topics)
    fn = step.build()
    ctx.problems.extend(here.problems)
    if fn is None:
        return None
    ctx.flags["nested_outputs"] = True
    return step.deferred(ctx.outbox)
