"""Run a compiled step chain per event: one function for the chain, and the agent around it.

A step function returns the new value, DROP (the event ends) or a :class:`Many`
(flat_map and branch: several results, each yielded to the agent's sinks).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from streamctl.errorpolicy import Blame, blame
from streamctl.events import _current  # the ContextVar itself: one C call per event
from streamctl.streams import Stream

if TYPE_CHECKING:
    from streamctl.events import Event

#: returned by a step function to drop the event (no later step sees it)
DROP: Any = object()
StepFn = Callable[[Any, Any], Any]


class Many(list):
    """Several results of one event (flat_map, branch): the sinks get each."""


def chain_fn(
    fns: list[StepFn], labels: dict[StepFn, Blame], outbox: list[Any] | None = None
) -> StepFn | None:
    """One function for the whole chain: the fewest Python frames per event. A step
    that raises is blamed (``labels``) on its exception. With an ``outbox`` (deferred
    ``to`` steps) the records queued there are sent once the chain has run, or
    forgotten when a step raised."""
    if not fns:
        return None
    funcs = tuple(fns)
    if outbox is not None:
        return _chain_with_outbox(funcs, labels, outbox)
    if len(funcs) == 1:
        return funcs[0]  # blamed by make_agent: no extra frame per event

    def run(v: Any, k: Any) -> Any:
        f = None
        try:
            for f in funcs:
                v = f(v, k)
                if v is DROP:
                    return v
            return v
        except Exception as exc:
            if f is not None:
                blame(exc, labels.get(f))
            raise

    return run


def _chain_with_outbox(
    funcs: tuple[StepFn, ...], labels: dict[StepFn, Blame], outbox: list[Any]
) -> StepFn:
    def run(v: Any, k: Any) -> Any:
        f = None
        try:
            for f in funcs:
                v = f(v, k)
                if v is DROP:
                    break
            f = None
            for send, key, value, timestamp, label in outbox:
                try:
                    send(key=key, value=value, timestamp=timestamp)
                except Exception as exc:
                    blame(exc, label)
                    raise
            return v
        except Exception as exc:
            if f is not None:
                blame(exc, labels.get(f))
            raise
        finally:
            outbox.clear()

    return run


def make_agent(
    fns: list[StepFn],
    regroup: Callable[[Any], Any] | None,
    yields: bool,
    labels: dict[StepFn, Blame] | None = None,
    outbox: list[Any] | None = None,
) -> Callable[..., Any]:
    """An ``async def agent(stream)`` running ``fns`` per event; yields results for sinks."""
    run = chain_fn(fns, labels or {}, outbox)

    # a chain of one step is the step's own function: blame it here, once per failure
    only = labels.get(fns[0]) if labels and len(fns) == 1 else None

    if yields:

        async def agent_with_sinks(stream: Any) -> Any:
            if regroup is not None:
                stream = regroup(stream)
            if not isinstance(stream, Stream):
                async for v in _each_value(stream, run):
                    yield v
                return
            taking, wait = stream.taking, stream.wait
            try:
                while True:
                    for event in taking():
                        v = event[1]  # value
                        if run is not None:
                            v = run(v, event[0])  # key
                            if v is DROP:
                                continue
                            if v.__class__ is Many:
                                for one in v:
                                    yield one
                                continue
                        yield v
                    await wait()
            except Exception as exc:
                blame(exc, only)
                raise

        return agent_with_sinks

    async def agent(stream: Any) -> None:
        if regroup is not None:
            stream = regroup(stream)
        if not isinstance(stream, Stream):
            async for _ in _each_value(stream, run):
                pass
            return
        taking, wait = stream.taking, stream.wait
        try:
            if run is None:
                while True:
                    for _event in taking():
                        pass
                    await wait()
            while True:
                # the batch's events in one synchronous loop: no coroutine per event
                for event in taking():
                    run(event[1], event[0])  # value, key
                await wait()
        except Exception as exc:
            blame(exc, only)
            raise

    return agent


async def _each_value(stream: Any, run: StepFn | None) -> Any:
    """The chain over any async iterable of values (what is not a Stream: a test's)."""
    get_event = cast("Callable[[], Event]", _current.get)
    async for v in stream:
        if run is not None:
            v = run(v, get_event().key)
            if v is DROP:
                continue
            if v.__class__ is Many:
                for one in v:
                    yield one
                continue
        yield v
