"""Turn a checked pipeline spec into an App, through the library's public API."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from streamctl.app import App
from streamctl.exceptions import ConfigurationError
from streamctl.pipeline.errors import PipelineError, Problem
from streamctl.pipeline.plugins import PluginError, resolve_agent
from streamctl.pipeline.spec import PipelineSpec, TopicDef
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
            topic.path + (f"{which}_type",), f"unknown type {type_name!r} (known: {known})"
        )
    )
    return {}


def build_app(
    spec: PipelineSpec,
    *,
    broker: str | None = None,
    datadir: str | Path | None = None,
    models: dict[str, Any] | None = None,
) -> App:
    """Build the App a pipeline describes; raises PipelineError listing every problem."""
    problems: list[Problem] = []
    models = models or {}
    base = Path(spec.file).resolve().parent
    settings = dict(spec.settings)
    store = settings.pop("table_store", "sqlite://")
    try:
        app = App(
            spec.app_id,
            broker=broker or spec.broker,
            datadir=datadir if datadir is not None else spec.datadir,
            store=store,
            broker_settings=dict(spec.broker_settings),
            **settings,
        )
    except ConfigurationError as exc:
        named = re.match(r"setting (\w+) ", str(exc))
        where = (
            ("settings", named.group(1)) if named and named.group(1) in settings else ("settings",)
        )
        raise PipelineError([spec.located.problem(where, str(exc))]) from None
    except TypeError as exc:
        raise PipelineError([spec.located.problem(("settings",), str(exc))]) from None

    for topic in spec.topics.values():
        options: dict[str, Any] = {}
        options.update(_side(spec, topic, "key", models, problems))
        options.update(_side(spec, topic, "value", models, problems))
        try:
            app.topic(
                topic.name,
                partitions=topic.partitions,
                compacting=topic.compacting,
                internal=topic.internal,
                dead_letter=topic.dead_letter,
                config=topic.config,
                **options,
            )
        except ConfigurationError as exc:
            problems.append(spec.located.problem(topic.path, str(exc)))

    build_tables(spec, app, models, problems)

    for agent in spec.agents.values():
        if agent.source not in app.topics:
            continue  # already reported by the checker
        if agent.use is not None:
            try:
                fun = resolve_agent(agent.use, search_dir=base)
            except PluginError as exc:
                problems.append(spec.located.problem(agent.path + ("use",), str(exc)))
                continue
        else:
            from streamctl.pipeline.steps import compile_steps

            try:
                fun = compile_steps(spec, agent, app)
            except PipelineError as exc:
                problems.extend(exc.problems)
                continue
        app.agent(
            app.topics[agent.source],
            name=agent.name,
            concurrency=agent.concurrency,
            sink=[app.topics[s] for s in agent.sinks],
            dead_letter=agent.dead_letter,
        )(fun)
    if not problems:
        # each table against the topics whose agents use it, as `run` checks before
        # creating anything (#9); here with the declared partition counts
        from streamctl.tables.manager import partition_problems

        declared = {t.name: t.spec().partitions for t in app.topics.values()}
        app.note_table_writers()
        for table, why in partition_problems(app.tables.values(), declared, {}):
            tdef = spec.tables.get(table.name)
            problems.append(spec.located.problem(tdef.path if tdef else (), why))
    if problems:
        raise PipelineError(problems)
    return app
