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
from typing import TYPE_CHECKING, Any, ClassVar

from streamctl import seams
from streamctl.errorpolicy import Blame
from streamctl.pipeline.errors import PipelineError, Problem
from streamctl.pipeline.expressions.types import Shape
from streamctl.pipeline.stepchain import DROP, Many, StepFn, chain_fn, make_agent
from streamctl.pipeline.stepcontext import StepContext
from streamctl.pipeline.stepschema import schema_problems
from streamctl.pipeline.yamlpos import Path_

if TYPE_CHECKING:
    from streamctl.app import App
    from streamctl.pipeline.spec import AgentDef, PipelineSpec

__all__ = ["DROP", "Many", "Step", "StepContext", "StepFn", "compile_steps", "step_class"]

_K = "streamctl.pipeline.stepkinds"
_T = "streamctl.pipeline.steptables"
_F = "streamctl.pipeline.stepfields"
_R = "streamctl.pipeline.stepflow"
BUILTIN_STEPS: dict[str, str] = {
    "filter": f"{_K}:Filter",
    "map": f"{_K}:Map",
    "group_by": f"{_K}:GroupBy",
    "to": f"{_K}:To",
    "set": f"{_K}:Set",
    "count": f"{_T}:Count",
    "sum": f"{_T}:Sum",
    "add": f"{_T}:Add",
    "min": f"{_T}:Min",
    "max": f"{_T}:Max",
    "mean": f"{_T}:Mean",
    "last": f"{_T}:Last",
    "collect": f"{_T}:Collect",
    "set_add": f"{_T}:SetAdd",
    "set_discard": f"{_T}:SetDiscard",
    "drop": f"{_F}:Drop",
    "keep": f"{_F}:Keep",
    "rename": f"{_F}:Rename",
    "flat_map": f"{_F}:FlatMap",
    "log": f"{_F}:Log",
    "timestamp": f"{_F}:Timestamp",
    "lookup": f"{_R}:Lookup",
    "branch": f"{_R}:Branch",
    "dedupe": "streamctl.pipeline.stepdedupe:Dedupe",
}


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

    #: the value leaves the step with the fields it came with (filter, to, table steps)
    keeps_shape: ClassVar[bool] = False

    def shape_after(self, shape: Shape | None) -> Shape | None:
        """The fields the value has after this (built) step, from those it came with (None:
        not known, so later expressions are not type-checked)."""
        return shape if self.keeps_shape else None


def step_class(name: str) -> type[Step] | None:
    """The Step class registered as ``name`` (built-in or ``streamctl.steps`` plugin)."""
    target = seams.target("streamctl.steps", name, BUILTIN_STEPS)
    if target is None:
        return None
    cls = seams.load_object(target)
    return cls if isinstance(cls, type) and issubclass(cls, Step) else None


def known_steps() -> list[str]:
    return seams.names("streamctl.steps", BUILTIN_STEPS)


#: one built step: its function, the step, and the path of its item
Built = tuple[StepFn, Step, Path_]


def build_steps(ctx: StepContext, items: Any, path: Path_, problems: list[Problem]) -> list[Built]:
    """Build each item of a ``steps:`` list at ``path`` (problems appended, not raised).
    ``ctx`` is the parent context: nested lists (branch) may not repartition."""
    spec = ctx.spec
    nested = path != ctx.agent.path + ("steps",)
    built: list[Built] = []
    group: Step | None = None
    seen_effect = False
    if not isinstance(items, list):
        problems.append(spec.located.problem(path, "steps must be a list of steps"))
        return built
    for i, item in enumerate(items):
        here = path + (i,)
        if not isinstance(item, dict) or len(item) != 1:
            problems.append(
                spec.located.problem(here, "a step is a mapping with one key, e.g. filter: 'x > 0'")
            )
            continue
        ((kind, arg),) = item.items()
        cls = step_class(str(kind))
        if cls is None:
            from streamctl.pipeline.spec import _hint

            problems.append(
                spec.located.problem(
                    here + (kind, "<key>"),
                    f"unknown step {kind!r} (known: {', '.join(known_steps())})"
                    + _hint(str(kind), known_steps()),
                )
            )
            continue
        sub = ctx.child(here + (kind,))
        shape = schema_problems(str(kind), cls.schema, arg)
        if shape:  # a step is built only from an argument of its declared shape
            problems.extend(spec.located.problem(sub.path + at, why) for at, why in shape)
            continue
        if group is not None:
            sub.grouped, sub.topic = True, group.topic  # type: ignore[attr-defined]
        step = cls(sub, arg)
        if step.role == "repartition":
            if nested:
                sub.error("group_by cannot be used inside branch; put it before the branch")
            elif group is not None:
                sub.error("only one group_by per agent")
            elif seen_effect:
                sub.error("group_by must come before every table or topic step")
        elif step.role == "split" and group is None and not nested:
            later = [next(iter(x)) for x in items[i + 1 :] if isinstance(x, dict) and x]
            if "group_by" in later:
                sub.error(f"{kind} must come after group_by (it makes several records of one)")
        fn = step.build()
        problems.extend(sub.problems)
        if sub.problems or fn is None:
            continue
        if step.role == "repartition":
            group = step
        elif step.role in ("effect", "split", "final"):
            seen_effect = True
        if built and built[-1][1].role == "final":
            problems.append(
                spec.located.problem(
                    here, f"no step may follow {built[-1][1].name}: put it in each case's steps"
                )
            )
        built.append((fn, step, here))
        after = step.shape_after(ctx.shape)
        if after is not ctx.shape:
            ctx.shape, ctx.owner = after, "the value here"
        if nested and hasattr(step, "deferred"):
            ctx.flags["nested_outputs"] = True
    return built


def link(built: list[Built], defer: bool, outbox: list[Any]) -> tuple[list[StepFn], dict]:
    """The functions of ``built`` in order, with ``to`` steps queuing into ``outbox`` when
    ``defer``, and the steps after a flat_map run by it per record."""
    labels: dict[StepFn, Blame] = {}
    fns: list[StepFn] = []
    for fn, step, _ in built:
        if defer and hasattr(step, "deferred"):
            fn = step.deferred(outbox)
        labels[fn] = step.label
        fns.append(fn)
    for i, (_, step, _) in enumerate(built):
        if hasattr(step, "then") and step.role == "split":
            rest = chain_fn(fns[i + 1 :], labels)
            new = step.then(rest)
            labels[new] = step.label
            fns = fns[:i] + [new]
            break
    return fns, labels


def compile_steps(spec: PipelineSpec, agent: AgentDef, app: App) -> Callable[..., Any]:
    """The agent function for ``agent.steps``; raises PipelineError with every problem."""
    problems: list[Problem] = []
    root = StepContext(spec, agent, app, agent.path)
    built = build_steps(root, agent.steps, agent.path + ("steps",), problems)
    if problems:
        raise PipelineError(problems)
    groups = [b for b in built if b[1].role == "repartition"]
    outputs = [i for i, b in enumerate(built) if hasattr(b[1], "deferred")]
    splits = any(b[1].role == "split" for b in built)
    # a step after an output may fail: outputs wait for the end of the chain
    defer = root.flags["nested_outputs"] or bool(
        outputs and (splits or outputs[-1] != len(built) - 1)
    )
    if not groups:
        fns, labels = link(built, defer, root.outbox)
        return make_agent(fns, None, agent.sinks != [], labels, root.outbox if defer else None)
    g = built.index(groups[0])
    pre, pre_labels = link(built[:g], False, root.outbox)
    fns, labels = link(built[:g] + built[g + 1 :], defer, root.outbox)
    # the transforms before group_by run again on the repartitioned records
    regroup = groups[0][1].attach(pre, DROP, pre_labels)  # type: ignore[attr-defined]
    return make_agent(fns, regroup, agent.sinks != [], labels, root.outbox if defer else None)


def nested_chain(ctx: StepContext, items: Any, sub: Path_) -> StepFn | None:
    """``items`` (a branch case's ``steps:``) as one function; its ``to`` steps queue in
    the agent's outbox. None when there are problems (reported through ``ctx``)."""
    problems: list[Problem] = []
    # each case starts from the value the branch got: its own copy of the shape
    built = build_steps(ctx.child(ctx.path), items, ctx.path + sub, problems)
    ctx.problems.extend(problems)
    if problems:
        return None
    if any(hasattr(b[1], "deferred") for b in built):
        ctx.flags["nested_outputs"] = True
    fns, labels = link(built, True, ctx.outbox)
    return chain_fn(fns, labels) or (lambda v, k: v)
