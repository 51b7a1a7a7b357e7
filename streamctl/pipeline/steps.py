"""Compile an agent's ``steps:`` into one async agent function, once, at load time.

Each item of ``steps:`` is a one-key mapping ``{kind: argument}``. The kind
names a :class:`Step` class in a registry of ``module:attr`` strings, built-ins
(``streamctl.pipeline.stepkinds``) and plugins (entry point group
``streamctl.steps``) alike. A step class checks its argument when it is built
(reporting mistakes through :class:`StepContext` with file:line:column) and
then hands out a plain function ``fn(value, key) -> new value or DROP``.

The agent runs the functions in order for each event; DROP ends the event. A step
that raises is blamed on the exception (its kind and YAML file:line, see
:func:`streamctl.agents.blame`) at no cost per event (``try`` is free until it
catches): the worker then parks, skips or stops per the agent's ``on_error``.
Roles: ``transform`` steps are pure (filter, map); ``effect`` steps write tables
or topics; one ``repartition`` step (group_by) may come after transforms and
before every effect. The repartition goes through ``stream.group_by``: the
worker forwards the raw record, so the transforms before it run twice, once to
compute the new key and again on the repartitioned side (they are pure, so the
result is the same); they may not use ``key``, which the forwarder does not see.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, cast

from streamctl import seams
from streamctl.errorpolicy import Blame, blame
from streamctl.events import _current  # the ContextVar itself: one C call per event
from streamctl.pipeline.errors import PipelineError, Problem
from streamctl.pipeline.expressions import (
    Expression,
    ExpressionError,
    compile_expression,
    shorten,
)
from streamctl.pipeline.yamlpos import Path_

if TYPE_CHECKING:
    from streamctl.app import App
    from streamctl.events import Event
    from streamctl.pipeline.spec import AgentDef, PipelineSpec

#: returned by a step function to drop the event (no later step sees it)
DROP: Any = object()
StepFn = Callable[[Any, Any], Any]

BUILTIN_STEPS: dict[str, str] = {
    "filter": "streamctl.pipeline.stepkinds:Filter",
    "map": "streamctl.pipeline.stepkinds:Map",
    "group_by": "streamctl.pipeline.stepkinds:GroupBy",
    "count": "streamctl.pipeline.stepkinds:Count",
    "add": "streamctl.pipeline.stepkinds:Add",
    "set": "streamctl.pipeline.stepkinds:Set",
    "set_add": "streamctl.pipeline.stepkinds:SetAdd",
    "set_discard": "streamctl.pipeline.stepkinds:SetDiscard",
    "to": "streamctl.pipeline.stepkinds:To",
}


class StepContext:
    """What a step sees while it is built: the pipeline, the App, and problem reporting."""

    def __init__(self, spec: PipelineSpec, agent: AgentDef, app: App, path: Path_) -> None:
        self.spec = spec
        self.agent = agent
        self.app = app
        self.path = path
        self.problems: list[Problem] = []
        #: the topic whose events the step sees (the repartition topic after group_by)
        self.topic: Any = app.topics.get(agent.source)
        self.grouped = False

    def error(self, message: str, sub: Path_ = (), offset: int = 0) -> None:
        self.problems.append(self.spec.located.problem(self.path + sub, message, offset))

    def expr(self, text: Any, sub: Path_ = (), *, allow_key: bool = True) -> Expression | None:
        """Compile an expression, reporting a mistake at its position (None then)."""
        try:
            e = compile_expression(text)
        except ExpressionError as exc:
            self.error(f"{exc.message} in expression {shorten(str(text))!r}", sub, exc.offset)
            return None
        if not allow_key and "key" in e.names:
            self.error(f"'key' cannot be used here (expression {text!r})", sub)
            return None
        return e

    def table(self, name: Any, sub: Path_, *, want: str, step: str) -> Any:
        """The table ``name`` if it exists and ``step`` may write it (else None, reported)."""
        from streamctl.pipeline.spec import _hint

        if not isinstance(name, str):
            self.error(f"{step}: table must be a table name", sub)
            return None
        tdef = self.spec.tables.get(name)
        if tdef is None:
            self.error(f"{step}: unknown table {name!r}" + _hint(name, self.spec.tables), sub)
            return None
        table = self.app.tables.get(name)
        if table is None:
            return None  # its declaration has a problem, reported already
        if tdef.is_global:
            self.error(f"{step}: table {name!r} is a global table, which is read-only", sub)
            return None
        if want == "set" and not tdef.is_set:
            self.error(f"{step} needs a set table (kind: set); {name!r} is kind {tdef.kind}", sub)
            return None
        if want == "table" and tdef.is_set:
            self.error(f"{step} needs a table (kind: table); {name!r} is a set table", sub)
            return None
        expected = self._source_partitions()
        if table.partitions != expected:
            self.error(
                f"table {name!r} has {table.partitions} partition(s) but agent "
                f"{self.agent.name!r} writes it from topic {self.agent.source!r} with {expected}: "
                f"declare it with partitions: {expected} (or leave partitions out)",
                sub,
            )
            return None
        if self.topic is not None:
            table.written_from(self.topic)  # co-partitioning and key placement (#9)
        return table

    def _source_partitions(self) -> int:
        topic = self.spec.topics.get(self.agent.source)
        parts = topic.partitions if topic is not None else None
        return parts or self.app.conf.topic_partitions

    def keyed_by_event(self, table: Any) -> None:
        """Note that ``table`` is keyed like the stream's records: writes made outside a
        stream (``streamctl table set``) then go to the partition the key's records use."""
        topic = self.topic
        if topic is None:
            return
        serde, parts = topic.key_serde, table.partitions
        from streamctl.transport.partitioner import partition_for

        def home(key: Any) -> int:
            return partition_for(serde.dumps(key), parts)

        previous = getattr(table, "key_partitioner", None)
        mark = (topic.name,)
        if previous is None:
            table.key_partitioner = home
            table._key_partitioner_from = mark
        elif getattr(table, "_key_partitioner_from", None) != mark:
            table.key_partitioner = None  # written from differently keyed streams: use the key

    def topic_named(self, name: Any, sub: Path_, step: str) -> Any:
        from streamctl.pipeline.spec import _hint

        if not isinstance(name, str) or name not in self.spec.topics:
            self.error(
                f"{step}: undeclared topic {name!r}" + _hint(str(name), self.spec.topics), sub
            )
            return None
        return self.app.topics.get(name)


class Step:
    """A step kind. Subclasses set ``name`` and ``role`` and implement ``build``."""

    name: ClassVar[str] = ""
    #: "transform" (pure), "effect" (writes a table or topic) or "repartition"
    role: ClassVar[str] = "transform"
    #: a JSON Schema (Draft 2020-12) fragment for the step's argument: the one declaration
    #: of its shape, which schemas/pipeline.schema.json is generated from
    schema: ClassVar[dict[str, Any]] = {}

    def __init__(self, ctx: StepContext, arg: Any) -> None:
        self.ctx = ctx
        self.arg = arg
        line, _col = ctx.spec.located.where(ctx.path)
        #: (kind, "file:line"): what a failure of this step is blamed on
        self.label: Blame = (self.name or str(ctx.path[-1]), f"{ctx.spec.file}:{line}")

    def build(self) -> StepFn | None:
        """Check the argument (report through ``self.ctx``) and return the step function."""
        raise NotImplementedError


def step_class(name: str) -> type[Step] | None:
    """The Step class registered as ``name`` (built-in or ``streamctl.steps`` plugin)."""
    target = seams.target("streamctl.steps", name, BUILTIN_STEPS)
    if target is None:
        return None
    cls = seams.load_object(target)
    return cls if isinstance(cls, type) and issubclass(cls, Step) else None


def known_steps() -> list[str]:
    return seams.names("streamctl.steps", BUILTIN_STEPS)


def compile_steps(spec: PipelineSpec, agent: AgentDef, app: App) -> Callable[..., Any]:
    """The agent function for ``agent.steps``; raises PipelineError with every problem."""
    problems: list[Problem] = []
    pre: list[StepFn] = []
    post: list[StepFn] = []
    labels: dict[StepFn, Blame] = {}
    #: steps that send a record (``to``), by their function
    outputs: list[tuple[StepFn, Any]] = []
    group: Any = None
    seen_effect: Path_ | None = None
    for i, item in enumerate(agent.steps):
        path = agent.path + ("steps", i)
        if not isinstance(item, dict) or len(item) != 1:
            problems.append(
                spec.located.problem(path, "a step is a mapping with one key, e.g. filter: 'x > 0'")
            )
            continue
        ((kind, arg),) = item.items()
        cls = step_class(str(kind))
        if cls is None:
            from streamctl.pipeline.spec import _hint

            problems.append(
                spec.located.problem(
                    path + (kind, "<key>"),
                    f"unknown step {kind!r} (known: {', '.join(known_steps())})"
                    + _hint(str(kind), known_steps()),
                )
            )
            continue
        ctx = StepContext(spec, agent, app, path + (kind,))
        ctx.grouped = group is not None
        if group is not None:
            ctx.topic = group.topic
        step = cls(ctx, arg)
        if cls.role == "repartition":
            if group is not None:
                ctx.error("only one group_by per agent")
            elif seen_effect is not None:
                ctx.error("group_by must come before every table or topic step")
        fn = step.build()
        problems.extend(ctx.problems)
        if ctx.problems or fn is None:
            continue
        labels[fn] = step.label
        if hasattr(step, "deferred"):
            outputs.append((fn, step))
        if cls.role == "repartition":
            group = step
        elif group is None:
            if cls.role == "effect" and seen_effect is None:
                seen_effect = path
            pre.append(fn)
        else:
            post.append(fn)
    if problems:
        raise PipelineError(problems)
    chain = pre if group is None else pre + post
    outbox: list[tuple[Any, ...]] | None = None
    if outputs and outputs[-1][0] is not chain[-1]:
        outbox = []
        # a step after an output may fail: outputs wait for the end of the chain
        swap = {fn: step.deferred(outbox) for fn, step in outputs}
        for fn, new in swap.items():
            labels[new] = labels[fn]
        chain = [swap.get(fn, fn) for fn in chain]
    if group is None:
        return make_agent(chain, None, agent.sinks != [], labels, outbox)
    # the transforms before group_by run again on the repartitioned records
    regroup = group.attach(pre, DROP, labels)
    return make_agent(chain, regroup, agent.sinks != [], labels, outbox)


def _chain(
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
    run = _chain(fns, labels or {}, outbox)
    # The stream sets the current event before it yields each value; the cast tells the
    # type checker so once, where a None check would cost every event.
    get_event = cast("Callable[[], Event]", _current.get)

    # a chain of one step is the step's own function: blame it here, once per failure
    only = labels.get(fns[0]) if labels and len(fns) == 1 else None

    if yields:

        async def agent_with_sinks(stream: Any) -> Any:
            if regroup is not None:
                stream = regroup(stream)
            try:
                async for v in stream:
                    if run is not None:
                        v = run(v, get_event().key)
                        if v is DROP:
                            continue
                    yield v
            except Exception as exc:
                blame(exc, only)
                raise

        return agent_with_sinks

    async def agent(stream: Any) -> None:
        if regroup is not None:
            stream = regroup(stream)
        if run is None:
            async for _ in stream:
                pass
            return
        try:
            async for v in stream:
                run(v, get_event().key)
        except Exception as exc:
            blame(exc, only)
            raise

    return agent
