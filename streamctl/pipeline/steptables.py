"""The table (aggregate) steps: count, sum (add), min, max, mean, last, collect, set_add, set_discard.

```yaml
  - count: orders                          # orders[key] += 1
  - sum: {table: revenue, value: total}    # revenue[key] += total   (add: is an alias)
  - min: {table: cheapest, value: price}   # cheapest[key] = min(cheapest[key], price)
  - max: {table: dearest, value: price}
  - mean: {table: avg_price, value: price} # avg_price[key] = {count, sum, mean}
  - last: {table: last_order, value: id}   # last_order[key] = id
  - collect: {table: products, value: product}   # a set table: products[key].add(product)
  - set_discard: {table: products, value: product}
```

Every table step takes ``key: expr`` for another key than the event's. A ``None``
value (a missing field) leaves min, max and mean unchanged. The steps use the
table's dict API (``get`` and item assignment, or ``_increment`` for count and
sum), so they work on any table that offers it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from streamctl.pipeline.expressions import Expression
from streamctl.pipeline.stepchain import StepFn
from streamctl.pipeline.steps import Step

#: the schema of an expression argument: text, or a constant number, bool or null
EXPR: dict[str, Any] = {"type": ["string", "number", "boolean", "null"]}
#: the schema of a table's name and of a topic's (the title is what messages call it)
TABLE_NAME: dict[str, Any] = {"type": "string", "title": "a table name"}
TOPIC_NAME: dict[str, Any] = {"type": "string", "title": "a topic name"}


def table_schema(needs_value: bool, want: str = "table") -> dict[str, Any]:
    """The argument schema of a table step: ``{table, value, key}`` (or a table name)."""
    props: dict[str, Any] = {
        "table": {
            **TABLE_NAME,
            "description": f"a {'set table' if want == 'set' else 'table'} this agent writes",
        },
        "key": {**EXPR, "description": "the table key (default: the event's key)"},
    }
    if needs_value:
        props["value"] = {**EXPR, "description": "an expression over the event"}
    obj = {
        "type": "object",
        "properties": props,
        "required": ["table", "value"] if needs_value else ["table"],
        "additionalProperties": False,
    }
    return obj if needs_value else {"oneOf": [TABLE_NAME, obj]}


class TableStep(Step):
    """Shared parsing of ``{table: name, value: expr, key: expr}``."""

    role = "effect"
    keeps_shape = True
    want = "table"
    needs_value = True
    #: the value must be a number where its type is known (type compatibility)
    numeric: ClassVar[bool] = False

    def build(self) -> StepFn | None:
        parsed = self.parse()
        return None if parsed is None else self.make(*parsed)

    def make(self, table: Any, value: Expression | None, key_fn: Any) -> StepFn:
        """The step function over a checked ``table``, ``value`` (None when the step
        takes no value) and ``key_fn`` (None: the event's key)."""
        raise NotImplementedError

    def parse(self) -> tuple[Any, Expression | None, Any] | None:
        """The table, value and key of an argument of the step's schema (checked before)."""
        ctx, arg = self.ctx, self.arg
        if isinstance(arg, str):
            arg = {"table": arg}
            sub_table: tuple[Any, ...] = ()
        else:
            sub_table = ("table",)
        table = ctx.table(arg["table"], sub_table, want=self.want, step=self.name)
        value = ctx.expr(arg["value"], ("value",)) if "value" in arg else None
        if value is not None and self.numeric:
            ctx.check_numeric(value, ("value",), self.name)
        key = ctx.expr(arg["key"], ("key",)) if "key" in arg else None
        if ctx.problems or table is None:
            return None
        if key is None:
            ctx.keyed_by_event(table)
        return table, value, key.fn if key is not None else None


class Count(TableStep):
    """``count: t`` or ``{table: t, key: expr}``: ``t[key] += 1``."""

    name = "count"
    needs_value = False
    schema = table_schema(False)

    def make(self, table: Any, value: Any, key_fn: Any) -> StepFn:
        return _accumulate(table, None, key_fn)


class Sum(TableStep):
    """``sum: {table: t, value: expr}``: ``t[key] += value`` (a running sum)."""

    name = "sum"
    numeric = True
    schema = table_schema(True)

    def make(self, table: Any, value: Any, key_fn: Any) -> StepFn:
        return _accumulate(table, value, key_fn)


class Add(Sum):
    """``add:``: the older name of ``sum:`` (kept as an alias)."""

    name = "add"


def _accumulate(table: Any, value: Expression | None, key_fn: Any) -> StepFn:
    """``t[key] += value`` (1 when value is None), from the table's default or 0."""
    zero = table.default() if table.default is not None else 0
    make = getattr(table, "_incrementer", None)
    if make is not None:
        increment = make(zero)
    else:  # a table with only the dict API's _increment(key, amount, start)
        inc3 = table._increment

        def increment(key: Any, amount: Any) -> None:
            inc3(key, amount, zero)

    inc = 1 if value is None else value.constant if value.is_constant else None
    val = value.fn if value is not None else None

    if inc is not None and key_fn is None:

        def count(v: Any, k: Any) -> Any:
            increment(k, inc)
            return v

        return count
    if key_fn is None and value is not None:  # not a constant: count() took those
        fn = value.fn

        def add(v: Any, k: Any) -> Any:
            increment(k, fn(v, k))
            return v

        return add

    def add_keyed(v: Any, k: Any) -> Any:
        increment(key_fn(v, k), inc if val is None else val(v, k))
        return v

    return add_keyed


def _lesser(old: Any, new: Any) -> Any:
    return new if old is None or new < old else old


def _greater(old: Any, new: Any) -> Any:
    return new if old is None or new > old else old


def _mean(old: Any, new: Any) -> Any:
    n, total = (old["count"], old["sum"]) if isinstance(old, dict) else (0, 0)
    n, total = n + 1, total + new
    return {"count": n, "sum": total, "mean": total / n}


class Min(TableStep):
    """``min: {table: t, value: expr}``: ``t[key]`` = the least value seen (None ignored)."""

    name = "min"
    numeric = True
    schema = table_schema(True)
    combine: ClassVar[Any] = staticmethod(_lesser)

    def make(self, table: Any, value: Any, key_fn: Any) -> StepFn:
        return _update(table, value.fn, key_fn, type(self).combine)


class Max(Min):
    """``max: {table: t, value: expr}``: ``t[key]`` = the greatest value seen (None ignored)."""

    name = "max"
    combine = staticmethod(_greater)


class Mean(Min):
    """``mean: {table: t, value: expr}``: ``t[key]`` = ``{count, sum, mean}`` of the values."""

    name = "mean"
    combine = staticmethod(_mean)


def _update(table: Any, val: Any, key_fn: Any, combine: Any) -> StepFn:
    """``t[key] = combine(t.get(key), value)`` per event; a None value changes nothing."""
    get, put = table.get, table.__setitem__

    def update(v: Any, k: Any) -> Any:
        new = val(v, k)
        if new is not None:
            key = k if key_fn is None else key_fn(v, k)
            put(key, combine(get(key), new))
        return v

    return update


class Last(TableStep):
    """``last: {table: t, value: expr}`` (or ``set: {table, value}``): ``t[key] = value``."""

    name = "last"
    schema = table_schema(True)

    def make(self, table: Any, value: Any, key_fn: Any) -> StepFn:
        return _member_op(table.__setitem__, value.fn, key_fn)


class SetAdd(TableStep):
    """``set_add: {table: s, value: expr}``: add the value to the set at key."""

    name = "set_add"
    want = "set"
    op = "add"
    schema = table_schema(True, "set")

    def make(self, table: Any, value: Any, key_fn: Any) -> StepFn:
        return _member_op(getattr(table, self.op), value.fn, key_fn)


class Collect(SetAdd):
    """``collect: {table: s, value: expr}``: the values seen per key, in a set table."""

    name = "collect"


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
