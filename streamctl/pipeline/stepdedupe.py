"""The dedupe step: drop repeats of a key within a duration of event time; expired rows purged.

```yaml
  - dedupe: {table: seen_orders, key: order_id, within: 10m}
```
"""

from __future__ import annotations

import heapq
import itertools
from typing import Any

from streamctl.events import _current
from streamctl.pipeline.expressions import duration
from streamctl.pipeline.stepchain import DROP, StepFn
from streamctl.pipeline.steps import Step
from streamctl.pipeline.steptables import EXPR, TABLE_NAME

#: the most expired rows one event purges (the rest go with the next events), so a jump
#: of stream time does not stall one record behind a long run of deletes
MAX_PURGE = 1_000


class Dedupe(Step):
    """``dedupe: {table, within, key}``: drop a record whose ``key`` (an expression; default
    the event's key) was first seen less than ``within`` ago (a duration: ``10m``, ``1h``
    or seconds) by event time. ``table`` (a table the agent writes) keeps each key's first
    time in milliseconds, so the window survives restarts.

    A row expires once stream time (the largest record timestamp seen in its partition,
    as in Kafka Streams) is ``within`` past it: it is deleted, a tombstone in the table's
    changelog, as Kafka Streams' windowed dedupe store and Redpanda Connect's ``dedupe``
    cache TTL let keys go. A repeat of an expired key passes and starts a new window.
    Rows restored at start-up are purged too (read once per partition at its first record).
    """

    name = "dedupe"
    role = "effect"
    keeps_shape = True
    schema = {
        "type": "object",
        "properties": {
            "table": {**TABLE_NAME, "description": "a table this agent writes"},
            "within": {
                "type": ["string", "number"],
                "description": "a duration: e.g. 10m, 1h30m, or seconds",
            },
            "key": {**EXPR, "description": "the key to deduplicate (default: the event's key)"},
        },
        "required": ["table", "within"],
        "additionalProperties": False,
    }

    def build(self) -> StepFn | None:
        ctx, arg = self.ctx, self.arg  # of the schema's shape (checked before)
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
        return _dedupe(table, key.fn if key else None, int(window * 1000))


def _dedupe(table: Any, key_fn: Any, ms: int) -> StepFn:
    """The step function: ``table[key]`` is the key's first time (ms); each partition's
    rows wait in a heap by that time until stream time passes them by ``ms``."""
    get, put, pop, event = table.get, table.__setitem__, table.pop, _current.get
    heaps: dict[int, list[tuple[int, int, Any]]] = {}
    stream_time: dict[int, int] = {}
    order = itertools.count()  # ties in time: keys need not be comparable

    def seed() -> list[tuple[int, int, Any]]:
        # the rows already in this partition (restored from the changelog), read in the
        # first record's context, so get() reads this partition
        heap = [(t, next(order), k) for k in list(table.keys()) if isinstance(t := get(k), int)]
        heapq.heapify(heap)
        return heap

    def purge(heap: list[tuple[int, int, Any]], now: int) -> None:
        for _ in range(MAX_PURGE):
            if not heap or heap[0][0] + ms > now:
                return
            first, _, old = heapq.heappop(heap)
            if get(old) == first:  # not written again since (nor rolled back)
                pop(old, None)

    def dedupe(v: Any, k: Any) -> Any:
        message = event().message  # type: ignore[union-attr]
        now, partition = message.timestamp_ms, message.partition
        heap = heaps.get(partition)
        if heap is None:
            heap = heaps[partition] = seed()
        newest = stream_time.get(partition)
        if newest is None or now > newest:
            newest = stream_time[partition] = now
        if heap and heap[0][0] + ms <= newest:
            purge(heap, newest)
        kk = k if key_fn is None else key_fn(v, k)
        first = get(kk)
        if first is not None and 0 <= now - first < ms:
            return DROP
        put(kk, now)
        heapq.heappush(heap, (now, next(order), kk))
        return v

    return dedupe
