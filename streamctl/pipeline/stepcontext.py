"""StepContext: what a step sees while it is built (the pipeline, the App, problem reporting)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from streamctl.pipeline.errors import Problem
from streamctl.pipeline.expressions import Expression, ExpressionError, compile_expression, shorten
from streamctl.pipeline.expressions.types import Shape, describe, model_shape
from streamctl.pipeline.yamlpos import Path_

if TYPE_CHECKING:
    from streamctl.app import App
    from streamctl.pipeline.spec import AgentDef, PipelineSpec


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
        #: agent-wide: records deferred ``to`` steps queue until the chain has run, and
        #: whether a nested chain (branch, flat_map) sends any
        self.outbox: list[tuple[Any, ...]] = []
        self.flags: dict[str, bool] = {"nested_outputs": False}
        #: the fields the value has at this step where known (the topic's model, then
        #: what earlier steps computed), and what messages call their owner
        model = getattr(self.topic, "value_type", None)
        self.shape: Shape | None = model_shape(model)
        self.owner = f"model {getattr(model, '__name__', '?')}"

    def error(self, message: str, sub: Path_ = (), offset: int = 0) -> None:
        self.problems.append(self.spec.located.problem(self.path + sub, message, offset))

    def expr(self, text: Any, sub: Path_ = (), *, allow_key: bool = True) -> Expression | None:
        """Compile an expression, reporting a mistake at its position (None then)."""
        try:
            e = compile_expression(text, self.read_table, self.shape, self.owner)
        except ExpressionError as exc:
            self.error(f"{exc.message} in expression {shorten(str(text))!r}", sub, exc.offset)
            return None
        if not allow_key and "key" in e.names:
            self.error(f"'key' cannot be used here (expression {text!r})", sub)
            return None
        return e

    def child(self, path: Path_) -> StepContext:
        """A context for a step at ``path`` sharing this one's agent-wide state."""
        ctx = StepContext(self.spec, self.agent, self.app, path)
        ctx.topic, ctx.grouped, ctx.outbox = self.topic, self.grouped, self.outbox
        ctx.flags = self.flags
        ctx.shape, ctx.owner = self.shape, self.owner
        return ctx

    def check_numeric(self, value: Expression, sub: Path_, step: str) -> None:
        """Report ``step`` over a value known not to be a number (a ``str`` field, text)."""
        if value.kind is None or value.kind in ("number", "boolean"):
            return
        name = value.text.strip()
        what = (
            f"field {name!r} of {self.owner}"
            if self.shape and name in self.shape
            else (f"its value {shorten(name)!r}")
        )
        self.error(f"{step} needs numbers, but {what} is {describe(value.kind)}", sub)

    def read_table(self, name: str) -> Any:
        """The table an expression reads (``table('t')[k]``); KeyError(message) if none."""
        from streamctl.pipeline.spec import _hint

        table = self.app.tables.get(name)
        if table is None:
            raise KeyError(f"unknown table {name!r}" + _hint(name, self.spec.tables))
        return table

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
