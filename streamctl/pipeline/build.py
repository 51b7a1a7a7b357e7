"""Turn a checked pipeline spec into an App, through the library's public API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from streamctl.app import App
from streamctl.exceptions import ConfigurationError
from streamctl.pipeline.brokercheck import check_broker, check_engine_settings
from streamctl.pipeline.errors import PipelineError, Problem
from streamctl.pipeline.plugins import PluginError, check_agent, resolve_agent
from streamctl.pipeline.spec import AgentDef, PipelineSpec, TopicDef, _hint
from streamctl.pipeline.tables import build_tables

#: YAML type names for keys and values without a model: (python type, serializer)
SCALAR_TYPES: dict[str, tuple[Any, str]] = {
    "str": (str, "raw"),
    "bytes": (None, "raw"),
    "json": (None, "json"),
    "int": (int, "json"),
    "float": (float, "json"),
    "bool": (bool, "json"),
}


def _side(
    spec: PipelineSpec, topic: TopicDef, which: str, models: dict[str, Any], problems: list[Problem]
) -> dict[str, Any]:
    type_name = getattr(topic, f"{which}_type")
    serializer = getattr(topic, f"{which}_serializer")
    if type_name is None:
        return {f"{which}_serializer": serializer or "json"}
    if type_name in models:
        return {f"{which}_type": models[type_name], f"{which}_serializer": serializer}
    if type_name in SCALAR_TYPES:
        py, default_ser = SCALAR_TYPES[type_name]
        return {f"{which}_type": py, f"{which}_serializer": serializer or default_ser}
    known = ", ".join([*SCALAR_TYPES, *models])
    problems.append(
        spec.located.problem(
            topic.path + (f"{which}_type",),
            f"unknown type {type_name!r} (known: {known})"
            + _hint(type_name, [*SCALAR_TYPES, *models]),
        )
    )
    return {}


def build_app(
    spec: PipelineSpec,
    *,
    broker: str | None = None,
    datadir: str | Path | None = None,
    models: dict[str, Any] | None = None,
    extra_broker_settings: dict[str, Any] | None = None,
    import_plugins: bool = True,
    problems: list[Problem] | None = None,
) -> App | None:
    """Build the App a pipeline describes, adding every problem found to ``problems``.

    Each part is checked even when another has problems (an undeclared topic does not
    hide a plugin or table problem). ``import_plugins=False`` (``validate``) looks at
    plugin modules without importing them. Without ``problems``, raises PipelineError;
    returns None when the App cannot be built at all.
    """
    raising = problems is None
    found: list[Problem] = [] if problems is None else problems
    models = {} if models is None else models
    base = Path(spec.file).resolve().parent
    settings = check_engine_settings(spec, found)
    store = settings.pop("table_store", "sqlite://")
    url = broker or spec.broker
    usable = check_broker(
        spec, url, spec.settings, extra_broker_settings or {}, found, from_cli=broker is not None
    )
    try:
        app = App(
            spec.app_id or "invalid",
            broker=url if usable else "local://",
            datadir=datadir if datadir is not None else spec.datadir,
            store=store,
            broker_settings=dict(spec.broker_settings),
            **settings,
        )
    except ConfigurationError as exc:
        found.append(spec.located.problem(("settings",), str(exc)))
        if raising:
            raise PipelineError(found) from None
        return None

    for topic in spec.topics.values():
        options: dict[str, Any] = {}
        options.update(_side(spec, topic, "key", models, found))
        options.update(_side(spec, topic, "value", models, found))
        try:
            app.topic(
                topic.name,
                partitions=topic.partitions,
                compacting=topic.compacting,
                internal=topic.internal,
                dead_letter=topic.dead_letter,
                config=topic.config,
                on_error=topic.on_error,
                **options,
            )
        except ConfigurationError as exc:
            found.append(spec.located.problem(topic.path, str(exc)))

    build_tables(spec, app, models, found)
    for agent in spec.agents.values():
        _build_agent(spec, app, agent, base, import_plugins, found)
    if not found:
        # each table against the topics whose agents use it, as `run` checks before
        # creating anything (#9); here with the declared partition counts
        from streamctl.tables.manager import partition_problems

        declared = {t.name: t.spec().partitions for t in app.topics.values()}
        app.note_table_writers()
        for table, why in partition_problems(app.tables.values(), declared, {}):
            tdef = spec.tables.get(table.name)
            found.append(spec.located.problem(tdef.path if tdef else (), why))
    if raising and found:
        raise PipelineError(found)
    return app


def _build_agent(
    spec: PipelineSpec,
    app: App,
    agent: AgentDef,
    base: Path,
    import_plugins: bool,
    problems: list[Problem],
) -> None:
    declared = agent.source in app.topics
    named: frozenset[str] = frozenset()  # tables an unimported plugin's source names
    if agent.use is not None:
        try:
            if import_plugins:
                fun = resolve_agent(agent.use, search_dir=base)
            else:
                named = check_agent(agent.use, search_dir=base)
                fun = _unimported
        except PluginError as exc:
            problems.append(spec.located.problem(agent.path + ("use",), str(exc)))
            return
    else:
        from streamctl.pipeline.steps import compile_steps

        if not agent.source:
            return  # its missing 'from' is reported by the checker
        if not declared:
            app.topic(agent.source)  # reported by the checker; check the steps all the same
        try:
            fun = compile_steps(spec, agent, app)
        except PipelineError as exc:
            problems.extend(exc.problems)
            return
    if not declared:
        return  # reported by the checker
    try:
        made = app.agent(
            app.topics[agent.source],
            name=agent.name,
            concurrency=agent.concurrency,
            sink=[app.topics[s] for s in agent.sinks],
            dead_letter=agent.dead_letter,
            on_error=agent.on_error,
        )(fun)
    except ConfigurationError as exc:
        problems.append(spec.located.problem(agent.path + ("on_error",), str(exc)))
        return
    # what a failure no step claims is blamed on: the plugin, or the agent's sinks
    what = "use" if agent.use is not None else "to"
    line, _col = spec.located.where(agent.path + (what,))
    made.origin = (what, f"{spec.file}:{line}")
    # what the imported function's code would show (streamctl.tables.writers), read from
    # the plugin's source instead, so validate checks its tables' partitions as run does
    for name in sorted(named & app.tables.keys()):
        if not app.tables[name].is_global:
            app.tables[name].written_from(app.topics[agent.source])


async def _unimported(stream: Any) -> None:
    """Stands for a plugin agent ``validate`` checked without importing it (never run)."""
    raise ConfigurationError("a plugin checked by validate is never run")
