"""Steps that reshape a record or note it: drop, keep, rename, flat_map, log, timestamp.

```yaml
  - drop: [password, debug]          # or drop: password
  - keep: [id, customer, total]      # every other field goes
  - rename: {cust: customer}         # old: new
  - flat_map: items                  # each element of the list becomes a record
  - flat_map: {each: items, as: item}   # the record once per element, with item set
  - log: "'big order ' + str(id)"    # or {message: expr, level: warning}
  - timestamp: created_at            # event time from a field (epoch seconds or ISO text)
```
"""

from __future__ import annotations

import logging
from typing import Any

from streamctl.events import _current
from streamctl.pipeline.expressions import epoch
from streamctl.pipeline.expressions.types import Shape
from streamctl.pipeline.stepchain import DROP, Many, StepFn
from streamctl.pipeline.stepkinds import _as_dict
from streamctl.pipeline.steps import Step
from streamctl.pipeline.steptables import EXPR

log = logging.getLogger("streamctl.pipeline.log")

_NAME = {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]*$"}
_NAMES = {"oneOf": [_NAME, {"type": "array", "items": _NAME, "minItems": 1}]}


def _names(arg: Any) -> set[str]:
    return {arg} if isinstance(arg, str) else set(arg)


def _field_names(step: Step) -> list[str]:
    """A field name or a list of them (the schema checked it) as a list."""
    return [step.arg] if isinstance(step.arg, str) else list(step.arg)


class Drop(Step):
    """``drop: field`` or ``drop: [field, ...]``: a copy of the value without those fields."""

    name = "drop"
    schema = _NAMES

    def build(self) -> StepFn | None:
        names = _field_names(self)
        gone = tuple(names)

        def drop(v: Any, k: Any) -> Any:
            new = _as_dict(v)
            for n in gone:
                new.pop(n, None)
            return new

        return drop

    def shape_after(self, shape: Shape | None) -> Shape | None:
        gone = _names(self.arg)
        return None if shape is None else {n: k for n, k in shape.items() if n not in gone}


class Keep(Step):
    """``keep: [field, ...]``: a copy of the value with only those fields (present ones)."""

    name = "keep"
    schema = _NAMES

    def build(self) -> StepFn | None:
        names = _field_names(self)
        kept = frozenset(names)

        def keep(v: Any, k: Any) -> Any:
            return {n: x for n, x in _as_dict(v).items() if n in kept}

        return keep

    def shape_after(self, shape: Shape | None) -> Shape | None:
        kept = _names(self.arg)
        return None if shape is None else {n: k for n, k in shape.items() if n in kept}


class Rename(Step):
    """``rename: {old: new, ...}``: a copy of the value with fields renamed (missing ones
    are left out)."""

    name = "rename"
    schema = {
        "type": "object",
        "minProperties": 1,
        "propertyNames": {"pattern": _NAME["pattern"]},
        "additionalProperties": _NAME,
    }

    def build(self) -> StepFn | None:
        pairs = tuple(self.arg.items())

        def rename(v: Any, k: Any) -> Any:
            new = _as_dict(v)
            for old, name in pairs:
                if old in new:
                    new[name] = new.pop(old)
            return new

        return rename

    def shape_after(self, shape: Shape | None) -> Shape | None:
        if shape is None:
            return None
        out = {n: k for n, k in shape.items() if n not in self.arg}
        out.update({new: shape[old] for old, new in self.arg.items() if old in shape})
        return out


class FlatMap(Step):
    """``flat_map: expr``: each element of the list the expression gives becomes a record
    (Faust's/Kafka Streams' flatMapValues); ``{each: expr, as: field}``: the record once
    per element, with ``field`` set to it. None or an empty list: no record. The steps
    after it run once per record."""

    name = "flat_map"
    role = "split"
    schema = {
        "oneOf": [
            {**EXPR, "description": "a list: each element becomes a record"},
            {
                "type": "object",
                "properties": {"each": EXPR, "as": _NAME},
                "required": ["each", "as"],
                "additionalProperties": False,
            },
        ]
    }

    def build(self) -> StepFn | None:
        arg, ctx = self.arg, self.ctx
        self.field: str | None = None
        if isinstance(arg, dict):  # {each, as} (the schema checked it)
            e = ctx.expr(arg["each"], ("each",))
            self.field = arg["as"]
        else:
            e = ctx.expr(arg)
        if e is None or ctx.problems:
            return None
        self.each = e.fn
        return self.then(None)

    def then(self, rest: StepFn | None) -> StepFn:
        """The step running ``rest`` (the later steps) on each record; a Many of results."""
        each, field = self.each, self.field

        def flat_map(v: Any, k: Any) -> Any:
            items = each(v, k)
            out = Many()
            if items is None:
                return out
            for x in items:
                if field is not None:
                    x = {**_as_dict(v), field: x}
                r = x if rest is None else rest(x, k)
                if r is DROP:
                    continue
                if r.__class__ is Many:
                    out.extend(r)
                else:
                    out.append(r)
            return out

        return flat_map

    def shape_after(self, shape: Shape | None) -> Shape | None:
        """``{each, as}``: the value's fields and ``as``; an element as the value: not known."""
        return None if shape is None or self.field is None else {**shape, self.field: None}


_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}


class Log(Step):
    """``log: expr`` or ``{message: expr, level: debug|info|warning|error}``: log a line
    (logger ``streamctl.pipeline.log``, level info) and pass the value on."""

    name = "log"
    keeps_shape = True
    schema = {
        "oneOf": [
            EXPR,
            {
                "type": "object",
                "properties": {"message": EXPR, "level": {"enum": list(_LEVELS)}},
                "required": ["message"],
                "additionalProperties": False,
            },
        ]
    }

    def build(self) -> StepFn | None:
        arg, ctx = self.arg, self.ctx
        level = "info"
        if isinstance(arg, dict):  # {message, level?} (the schema checked it)
            level = arg.get("level", "info")
            e = ctx.expr(arg["message"], ("message",))
        else:
            e = ctx.expr(arg)
        if e is None or ctx.problems:
            return None
        fn, lvl, where = e.fn, _LEVELS[level], self.label[1]

        def log_(v: Any, k: Any) -> Any:
            if log.isEnabledFor(lvl):
                log.log(lvl, "%s: %s", where, fn(v, k))
            return v

        return log_


class Timestamp(Step):
    """``timestamp: expr``: the event time becomes the expression's value (epoch seconds,
    or ISO 8601 text): later ``to`` steps and windowed tables use it, as Kafka Streams'
    TimestampExtractor does. A None value keeps the record's own timestamp."""

    name = "timestamp"
    keeps_shape = True
    schema = EXPR

    def build(self) -> StepFn | None:
        e = self.ctx.expr(self.arg)
        if e is None:
            return None
        fn, get, put = e.fn, _current.get, _current.set

        def timestamp(v: Any, k: Any) -> Any:
            t = epoch(fn(v, k))
            event = get()
            if t is not None and event is not None:
                put(event._replace(message=event[2]._replace(timestamp=int(t * 1000))))
            return v

        return timestamp
