"""The core steps: filter, map, set, group_by, to (table steps: steptables; fields: stepfields).

```yaml
steps:
  - filter: "quantity > 0"
  - map: {total: "price * quantity"}        # or map: "expr" to replace the value
  - set: {total: "price * quantity"}        # the same as map with fields
  - set: {table: last_total, value: total}   # with table: the table step (table[key] = value)
  - group_by: customer_id                    # or {key: "lower(customer_id)", name: customer}
  - to: large-orders                         # or to: [a, b]: send the value, keeping the key
```
"""

from __future__ import annotations

import re
from typing import Any

from streamctl.errorpolicy import Blame, blame
from streamctl.events import _current
from streamctl.pipeline.expressions import field_getter
from streamctl.pipeline.expressions.types import Shape
from streamctl.pipeline.stepchain import DROP, StepFn
from streamctl.pipeline.steps import Step
from streamctl.pipeline.steptables import EXPR, TOPIC_NAME, Last, table_schema
from streamctl.streams import SKIP

_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class Filter(Step):
    """``filter: expr``: keep the events for which the expression is true."""

    name = "filter"
    keeps_shape = True
    schema = {**EXPR, "description": "keep the events for which this expression is true"}

    def build(self) -> StepFn | None:
        e = self.ctx.expr(self.arg)
        if e is None:
            return None
        pred = e.fn

        def filter_(v: Any, k: Any) -> Any:
            return v if pred(v, k) else DROP

        return filter_


def _as_dict(v: Any) -> dict[str, Any]:
    if isinstance(v, dict):
        return dict(v)
    to_rep = getattr(v, "asdict", None) or getattr(v, "to_representation", None)
    if to_rep is not None:
        return dict(to_rep())
    if v is None:
        return {}
    raise TypeError(f"map with fields needs a mapping or a record, not {type(v).__name__}")


class Map(Step):
    """``map: {field: expr}`` sets fields on a copy of the value; ``map: expr`` replaces it."""

    name = "map"
    schema = {
        "oneOf": [
            {**EXPR, "description": "the new value"},
            {
                "type": "object",
                "minProperties": 1,
                "propertyNames": {"pattern": "^[A-Za-z][A-Za-z0-9_]*$"},
                "additionalProperties": EXPR,
                "description": "fields to compute: name: expression",
            },
        ]
    }

    def build(self) -> StepFn | None:
        ctx = self.ctx
        if isinstance(self.arg, dict):  # field names checked by the schema
            fields: list[tuple[str, Any]] = []
            self.kinds: dict[str, Any] = {}
            for name, text in self.arg.items():
                e = ctx.expr(text, (name,))
                if e is not None:
                    fields.append((name, e.fn))
                    self.kinds[name] = e.kind
            if ctx.problems:
                return None
            pairs = tuple(fields)

            def map_fields(v: Any, k: Any) -> Any:
                new = dict(v) if v.__class__ is dict else _as_dict(v)
                for name, fn in pairs:
                    new[name] = fn(v, k)
                return new

            return map_fields
        e = ctx.expr(self.arg)
        return None if e is None else e.fn

    def shape_after(self, shape: Shape | None) -> Shape | None:
        """Fields computed on the value: its fields and theirs; a replaced value: not known."""
        if not isinstance(self.arg, dict) or shape is None:
            return None
        return {**shape, **self.kinds}


class GroupBy(Step):
    """``group_by: field`` or ``{key: expr, name: suffix}``: repartition by a new key."""

    name = "group_by"
    role = "repartition"
    keeps_shape = True
    schema = {
        "oneOf": [
            {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]*$"},
            {
                "type": "object",
                "properties": {
                    "key": EXPR,
                    "name": {"type": "string", "pattern": "^[A-Za-z0-9._-]+$"},
                },
                "required": ["key"],
                "additionalProperties": False,
            },
        ]
    }

    def build(self) -> StepFn | None:
        ctx = self.ctx
        arg = self.arg
        self.key_fn: Any = None
        if isinstance(arg, str):  # a field name (the schema checked it)
            self.key_fn, self.suffix = field_getter(arg), arg
        else:  # {key, name?}
            e = ctx.expr(arg["key"], ("key",), allow_key=False)
            name = arg.get("name")
            if name is None and e is not None and _FIELD.match(str(arg["key"]).strip()):
                name = str(arg["key"]).strip()
            if name is None:  # a given name is checked by the schema
                ctx.error(
                    "group_by needs name: (letters, digits, . _ -) to name its repartition topic"
                )
                return None
            if e is None:
                return None
            self.key_fn, self.suffix = e.fn, name
        source = ctx.app.topics[ctx.agent.source]
        # JSON keys (not the source's text keys): a group_by on a number keeps a number
        self.topic = ctx.app.repartition_topic(source, self.suffix, key_serializer="json")
        return self.key_fn

    def attach(self, before: list[StepFn], drop: Any, labels: dict[StepFn, Blame]) -> Any:
        """``regroup(stream)``: the stream's group_by with the transforms ``before`` applied
        to compute the key (a record they drop is not forwarded at all). A failure is
        blamed on the step that raised (``labels``), not on group_by."""
        key_of = self.key_fn
        fns = tuple(before)
        suffix = self.suffix
        own = self.label

        def key_fn(v: Any) -> Any:
            f = None
            try:
                for f in fns:
                    v = f(v, None)
                    if v is drop:
                        return SKIP
                f = None
                key = key_of(v, None)
                if key is None:
                    raise ValueError("the new key is None (a missing field?)")
                return key
            except Exception as exc:
                blame(exc, labels.get(f) if f is not None else None)
                blame(exc, own)
                raise

        key_fn.__name__ = suffix

        def regroup(stream: Any) -> Any:
            return stream.group_by(key_fn, name=suffix)

        return regroup


class To(Step):
    """``to: topic`` or ``to: [topic, ...]``: send the current value to each (with the
    event's key and timestamp)."""

    name = "to"
    role = "effect"
    keeps_shape = True
    schema = {
        "oneOf": [
            TOPIC_NAME,
            {"type": "array", "items": TOPIC_NAME, "minItems": 1},
        ]
    }

    def build(self) -> StepFn | None:
        names = self.arg if isinstance(self.arg, list) and self.arg else [self.arg]
        topics = [
            self.ctx.topic_named(n, (i,) if isinstance(self.arg, list) else (), "to")
            for i, n in enumerate(names)
        ]
        if any(t is None for t in topics):
            return None
        sends = [t.send_soon for t in topics]
        if len(sends) == 1:
            send = self.send = sends[0]
        else:

            def send(**kw: Any) -> None:
                for s in sends:
                    s(**kw)

            self.send = send
        get_event = _current.get

        def to(v: Any, k: Any) -> Any:
            event = get_event()
            send(key=k, value=v, timestamp=event[2][5] / 1000.0 if event else None)
            return v

        return to

    def deferred(self, outbox: list[tuple[Any, ...]]) -> StepFn:
        """The step queuing its record in ``outbox`` instead: a step after it may fail,
        and a failed event must leave no output. The chain sends the outbox once every
        step has run (see ``steps._chain``)."""
        send = self.send
        get_event = _current.get
        label = self.label

        def to_later(v: Any, k: Any) -> Any:
            event = get_event()
            outbox.append((send, k, v, event[2][5] / 1000.0 if event else None, label))
            return v

        return to_later


class Set(Step):
    """``set: {field: expr, ...}`` sets fields (as ``map``); ``set: {table: t, value: expr}``
    (a mapping with a ``table`` key) is the table step ``last``: ``t[key] = value``. To
    compute a field named ``table``, use ``map``."""

    name = "set"
    schema = {
        "if": {"type": "object", "required": ["table"]},
        "then": table_schema(True),
        "else": Map.schema["oneOf"][1],
    }

    def __init__(self, ctx: Any, arg: Any) -> None:
        super().__init__(ctx, arg)
        self.inner: Step = (Last if isinstance(arg, dict) and "table" in arg else Map)(ctx, arg)
        self.inner.label = self.label
        self.inner.name = "set"  # type: ignore[misc]  # its messages say set
        self.role = self.inner.role  # type: ignore[misc]

    def shape_after(self, shape: Shape | None) -> Shape | None:
        return self.inner.shape_after(shape)

    def build(self) -> StepFn | None:
        if not isinstance(self.arg, dict):
            self.ctx.error("set takes {field: expression, ...} or {table: name, value: expression}")
            return None
        return self.inner.build()
