"""A pipeline as ``run`` would use it (``streamctl echo``): defaults filled in, env expanded, secrets masked.

The file is read and built as ``validate`` builds it (plugins looked at, never
imported; nothing created): ``${VAR}`` references are expanded, ``models: FILE`` is
inlined, and every default the loader or the App applies is written out: engine
settings, each topic's partitions and serializers, each table's kind, partitions
(those of the stream that writes it) and changelog topic, each agent's concurrency and
error policy. Secret values (``broker_settings`` whose names say password, secret,
token, credential, and credentials in the broker URL) are shown as ``***``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from streamctl.pipeline.errors import PipelineError
from streamctl.pipeline.keys import SETTINGS_KEYS
from streamctl.redact import is_secret, mask_url

MASK = "***"


def resolve(path: str | Path) -> dict[str, Any]:
    """The resolved pipeline as plain data (YAML- and JSON-ready), keys in the file's
    section order; PipelineError with every problem when the file has one."""
    from streamctl.pipeline.loader import _load

    pipeline, problems = _load(
        Path(path), broker=None, datadir=None, broker_settings=None, import_plugins=False
    )
    if pipeline is None:
        raise PipelineError([p for p in problems if not p.warning])
    spec, app = pipeline.spec, pipeline.app
    conf = app.conf
    out: dict[str, Any] = {
        "app": spec.app_id,
        "broker": mask_url(conf.broker),
        "datadir": str(conf.datadir),
        "settings": {k: _plain(getattr(conf, k, None)) for k in SETTINGS_KEYS},
        "broker_settings": {
            k: MASK if is_secret(str(k)) and v not in (None, "") else v
            for k, v in spec.broker_settings.items()
        },
    }
    models = _models(spec)
    if models:
        out["models"] = models
    out["topics"] = {name: _topic(app.topics[name], t) for name, t in spec.topics.items()}
    out["tables"] = {name: _table(app.tables[name], t, spec) for name, t in spec.tables.items()}
    out["agents"] = {name: _agent(app, a, spec) for name, a in spec.agents.items()}
    tests = spec.located.data.get("tests") if isinstance(spec.located.data, dict) else None
    if tests:
        out["tests"] = tests
    return out


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, (str, int, float, bool)) else str(value)


def _models(spec: Any) -> dict[str, Any]:
    if not isinstance(spec.models, str):
        return dict(spec.models)
    from streamctl.pipeline.models import _definitions

    found = _definitions(spec, [])
    return dict(found[0]) if found is not None else {}


def _topic(topic: Any, t: Any) -> dict[str, Any]:
    return {
        "partitions": topic.spec().partitions,
        "compacting": t.compacting,
        "key_type": t.key_type,
        "value_type": t.value_type or "json",
        "key_serializer": topic.key_serde.codec.name,
        "value_serializer": topic.value_serde.codec.name,
        "dead_letter": t.dead_letter,
        "on_error": t.on_error or ("dead_letter" if t.dead_letter else "stop"),
        "internal": t.internal,
        "config": dict(t.config),
    }


def _table(table: Any, t: Any, spec: Any) -> dict[str, Any]:
    raw = spec.located.data["tables"][t.name] or {}
    body: dict[str, Any] = {
        "kind": t.kind,
        "default": t.default_raw if t.default_raw is not None else None,
        "key_type": t.key_type,
        "value_type": t.value_type,
        "partitions": table.partitions,
        "changelog_topic": table.changelog_topic.name,
        "help": t.help,
    }
    for key in ("window", "emit"):
        if key in raw:
            body[key] = raw[key]
    return body


def _agent(app: Any, a: Any, spec: Any) -> dict[str, Any]:
    agent = app.agents.get(a.name)
    body: dict[str, Any] = {"from": a.source}
    if a.use is not None:
        body["use"] = a.use
    else:
        body["steps"] = a.steps
    body["to"] = list(a.sinks)
    body["concurrency"] = a.concurrency
    body["dead_letter"] = agent.dead_letter_topic if agent is not None else a.dead_letter
    body["on_error"] = agent.error_policy if agent is not None else a.on_error
    return body
