"""The built-in steps: filter, map, group_by, count, add, set, set_add, set_discard, to.

```yaml
steps:
  - filter: "quantity > 0"
  - map: {total: "price * quantity"}        # or map: "expr" to replace the value
  - group_by: customer_id                    # or {key: "lower(customer_id)", name: customer}
  - count: {table: orders_per_customer}      # or count: orders_per_customer
  - add: {table: revenue, value: total}      # table[key] += value
  - set: {table: last_total, value: total}   # table[key] = value
  - set_add: {table: products, value: product}
  - set_discard: {table: products, value: product}
  - to: large-orders                         # send the current value, keeping the key
```

Table steps take ``key: expr`` to use another key than the event's.
"""

from __future__ import annotations

import re
from typing import Any

from streamctl.errorpolicy import Blame, blame
from streamctl.events import _current
from streamctl.pipeline.expressions import Expression, field_getter
from streamctl.pipeline.steps import DROP, Step, StepFn
from streamctl.streams import SKIP

_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class Filter(Step):
    """``filter: expr``: keep the events for which the expression is true."""

    name = "filter"

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

    def build(self) -> StepFn | None:
        ctx = self.ctx
        if isinstance(self.arg, dict):
            if not self.arg:
                ctx.error("map needs at least one field: expression")
                return None
            fields: list[tuple[str, Any]] = []
            for name, text in self.arg.items():
                if not isinstance(name, str) or not _FIELD.match(name):
                    ctx.error(f"map: invalid field name {name!r}", (name, "<key>"))
                    continue
                e = ctx.expr(text, (name,))
                if e is not None:
                    fields.append((name, e.fn))
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


class GroupBy(Step):
    """``group_by: field`` or ``{key: expr, name: suffix}``: repartition by a new key."""

    name = "group_by"
    role = "repartition"

    def build(self) -> StepFn | None:
        ctx = self.ctx
        arg = self.arg
        self.key_fn: Any = None
        if isinstance(arg, str):
            if not _FIELD.match(arg):
                ctx.error(
                    f"group_by: {arg!r} is not a field name; use {{key: expression, name: suffix}}"
                )
                return None
            self.key_fn, self.suffix = field_getter(arg), arg
        elif isinstance(arg, dict):
            unknown = [k for k in arg if k not in ("key", "name")]
            for k in unknown:
                ctx.error(f"unknown key {k!r} in group_by (known: key, name)", (k, "<key>"))
            if "key" not in arg:
                ctx.error("group_by needs key: an expression")
                return None
            e = ctx.expr(arg["key"], ("key",), allow_key=False)
            name = arg.get("name")
            if name is None and e is not None and _FIELD.match(str(arg["key"]).strip()):
                name = str(arg["key"]).strip()
            if not isinstance(name, str) or not re.match(r"^[A-Za-z0-9._-]+$", name):
                ctx.error(
                    "group_by needs name: (letters, digits, . _ -) to name its repartition topic",
                    ("name",) if "name" in arg else (),
                )
                return None
            if e is None or unknown:
                return None
            self.key_fn, self.suffix = e.fn, name
        else:
            ctx.error("group_by takes a field name or {key: expression, name: suffix}")
            return None
        source = ctx.app.topics[ctx.agent.source]
        self.topic = ctx.app.repartition_topic(source, self.suffix)
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


class _TableStep(Step):
    """Shared parsing of ``{table: name, value: expr, key: expr}``."""

    role = "effect"
    want = "table"
    needs_value = True

    def parse(self) -> tuple[Any, Expression | None, Any] | None:
        ctx, arg = self.ctx, self.arg
        if isinstance(arg, str) and not self.needs_value:
            arg = {"table": arg}
            sub_table: tuple[Any, ...] = ()
        else:
            sub_table = ("table",)
        if not isinstance(arg, dict):
            ctx.error(
                f"{self.name} takes {{table: name{', value: expr' if self.needs_value else ''}}}"
            )
            return None
        known = {"table", "key", "value"} if self.needs_value else {"table", "key"}
        for k in arg:
            if k not in known:
                ctx.error(
                    f"unknown key {k!r} in {self.name} (known: {', '.join(sorted(known))})",
                    (k, "<key>"),
                )
        if "table" not in arg:
            ctx.error(f"{self.name} needs table: a table name")
        if self.needs_value and "value" not in arg:
            ctx.error(f"{self.name} needs value: an expression")
        table = (
            ctx.table(arg["table"], sub_table, want=self.want, step=self.name)
            if "table" in arg
            else None
        )
        value = ctx.expr(arg["value"], ("value",)) if "value" in arg else None
        key = ctx.expr(arg["key"], ("key",)) if "key" in arg else None
        if ctx.problems or table is None:
            return None
        if key is None:
            ctx.keyed_by_event(table)
        return table, value, key.fn if key is not None else None


class Count(_TableStep):
    """``count: {table: t}``: ``t[key] += 1``."""

    name = "count"
    needs_value = False

    def build(self) -> StepFn | None:
        parsed = self.parse()
        if parsed is None:
            return None
        table, _, key_fn = parsed
        return _accumulate(table, None, key_fn)


class Add(_TableStep):
    """``add: {table: t, value: expr}``: ``t[key] += value`` (a running sum)."""

    name = "add"

    def build(self) -> StepFn | None:
        parsed = self.parse()
        if parsed is None:
            return None
        table, value, key_fn = parsed
        assert value is not None
        return _accumulate(table, value, key_fn)


def _accumulate(table: Any, value: Expression | None, key_fn: Any) -> StepFn:
    """``t[key] += value`` (1 when value is None), from the table's default or 0."""
    increment = table._increment
    zero = table.default() if table.default is not None else 0
    inc = 1 if value is None else value.constant if value.is_constant else None
    val = value.fn if value is not None else None

    if inc is not None and key_fn is None:

        def count(v: Any, k: Any) -> Any:
            increment(k, inc, zero)
            return v

        return count
    if key_fn is None and value is not None:  # not a constant: count() took those
        fn = value.fn

        def add(v: Any, k: Any) -> Any:
            increment(k, fn(v, k), zero)
            return v

        return add

    def add_keyed(v: Any, k: Any) -> Any:
        increment(key_fn(v, k), inc if val is None else val(v, k), zero)
        return v

    return add_keyed


class Set(_TableStep):
    """``set: {table: t, value: expr}``: ``t[key] = value``."""

    name = "set"

    def build(self) -> StepFn | None:
        parsed = self.parse()
        if parsed is None:
            return None
        table, value, key_fn = parsed
        assert value is not None
        return _member_op(table.__setitem__, value.fn, key_fn)


class SetAdd(_TableStep):
    """``set_add: {table: s, value: expr}``: add the value to the set at key."""

    name = "set_add"
    want = "set"

    def build(self) -> StepFn | None:
        parsed = self.parse()
        if parsed is None:
            return None
        table, value, key_fn = parsed
        assert value is not None
        return _member_op(getattr(table, self.op), value.fn, key_fn)

    op = "add"


class SetDiscard(SetAdd):
    """``set_discard: {table: s, value: expr}``: remove the value from the set at key."""

    name = "set_discard"
    op = "discard"


def _member_op(op: Any, val: Any, key_fn: Any) -> StepFn:
    """``op(key, value)`` per event: the table's __setitem__, a set's add or discard."""
    if key_fn is None:

        def member(v: Any, k: Any) -> Any:
            op(k, val(v, k))
            return v

        return member

    def member_keyed(v: Any, k: Any) -> Any:
        op(key_fn(v, k), val(v, k))
        return v

    return member_keyed


class To(Step):
    """``to: topic``: send the current value (with the event's key and timestamp)."""

    name = "to"
    role = "effect"

    def build(self) -> StepFn | None:
        topic = self.ctx.topic_named(self.arg, (), "to")
        if topic is None:
            return None
        send = self.send = topic.send_soon
        get_event = _current.get

        def to(v: Any, k: Any) -> Any:
            event = get_event()
            send(key=k, value=v, timestamp=event.message.timestamp if event else None)
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
            outbox.append((send, k, v, event.message.timestamp if event else None, label))
            return v

        return to_later
