"""Check a parsed pipeline file and turn it into typed definitions, collecting every problem."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from streamctl.pipeline.errors import Problem
from streamctl.pipeline.keys import (
    AGENT_KEYS,
    SETTINGS_KEYS,
    TOP_KEYS,
    TOPIC_KEYS,
    WINDOW_KEYS,
    Decl,
)
from streamctl.pipeline.limits import MAX_ENTRIES, MOST
from streamctl.pipeline.tables import TableDef, read_tables
from streamctl.pipeline.windowspec import check_emit_topics
from streamctl.pipeline.yamlpos import Located, Path_
from streamctl.tables.naming import is_safe_name

#: the sections whose entries are counted against MAX_ENTRIES
SECTIONS = ("topics", "tables", "agents", "models")
NAME = re.compile(r"^[A-Za-z0-9._-]+$")


@dataclass
class TopicDef:
    name: str
    partitions: int | None = None
    compacting: bool = False
    key_type: str | None = "str"
    value_type: str | None = None
    key_serializer: str | None = None
    value_serializer: str | None = None
    dead_letter: str | None = None
    #: stop | skip | dead_letter for records that do not decode (None: the default)
    on_error: str | None = None
    internal: bool = False
    config: dict[str, str] = field(default_factory=dict)
    path: Path_ = ()


@dataclass
class AgentDef:
    name: str
    source: str
    use: str | None = None
    sinks: list[str] = field(default_factory=list)
    concurrency: int = 1
    dead_letter: str | None = None
    #: stop | skip | dead_letter for events the agent fails on (None: the default)
    on_error: str | None = None
    steps: list[Any] = field(default_factory=list)
    path: Path_ = ()


@dataclass
class PipelineSpec:
    file: str
    located: Located
    app_id: str
    broker: str = "local://"
    datadir: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    broker_settings: dict[str, Any] = field(default_factory=dict)
    topics: dict[str, TopicDef] = field(default_factory=dict)
    agents: dict[str, AgentDef] = field(default_factory=dict)
    tables: dict[str, TableDef] = field(default_factory=dict)
    #: model definitions, or the path of a YAML file holding them (relative to the pipeline)
    models: dict[str, Any] | str = field(default_factory=dict)


class Checker:
    """Collects problems while reading a Located document."""

    def __init__(self, doc: Located) -> None:
        self.doc = doc
        self.problems: list[Problem] = []

    def error(self, path: Path_, message: str) -> None:
        self.problems.append(self.doc.problem(path, message))

    def unknown_keys(self, mapping: dict[str, Any], known: Any, path: Path_, what: str) -> None:
        for key in mapping:
            if key not in known:
                hint = difflib.get_close_matches(str(key), [str(k) for k in known], n=1)
                extra = f" (did you mean {hint[0]!r}?)" if hint else ""
                if "window" in known and key in WINDOW_KEYS and key != "window":
                    extra = (
                        f" ({key} is a key of window:, e.g. window: {{tumbling: 1m, {key}: ...}})"
                    )
                self.error(path + (key, "<key>"), f"unknown key {key!r} in {what}{extra}")

    def mapping(self, value: Any, path: Path_, what: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.error(path, f"{what} must be a mapping, not {_kind(value)}")
            return {}
        if len(path) == 1 and path[0] in SECTIONS and len(value) > MAX_ENTRIES:
            self.error(
                path + ("<key>",), f"{what} has {len(value):,} entries; the most is {MAX_ENTRIES:,}"
            )
            return {}
        return value

    def typed(
        self, mapping: dict[str, Any], key: str, types: Any, path: Path_, default: Any = None
    ) -> Any:
        if key not in mapping:
            return default
        value = mapping[key]
        if isinstance(value, bool) and bool not in _as_tuple(types):
            ok = False
        else:
            ok = isinstance(value, types)
        if not ok:
            names = " or ".join(t.__name__ for t in _as_tuple(types))
            self.error(path + (key,), f"{key} must be {names}, not {_kind(value)}")
            return default
        return value

    def declared(
        self, mapping: dict[str, Any], key: str, decl: Decl, path: Path_, default: Any = None
    ) -> Any:
        """``mapping[key]`` checked against its declaration ``decl[key]`` (see
        :mod:`streamctl.pipeline.keys`): its type, and its ``minimum`` and ``maximum``;
        the declared ``default`` (else ``default``) when absent or wrong."""
        schema = decl[key]
        fallback = schema.get("default", default)
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        types = tuple(t for n in names for t in _JSON_TYPES[n])
        value = self.typed(mapping, key, types if len(types) > 1 else types[0], path, fallback)
        if key not in mapping or value is fallback or isinstance(value, bool):
            return value
        low, high = schema.get("minimum"), schema.get("maximum")
        if low is not None and isinstance(value, (int, float)) and value < low:
            self.error(path + (key,), f"{key} must be at least {low}, not {value}")
            return fallback
        if high is not None and isinstance(value, (int, float)) and value > high:
            self.error(path + (key,), f"{key} must be at most {high:,}, not {value:,}")
            return fallback
        return value

    def positive_int(
        self, mapping: dict[str, Any], key: str, path: Path_, default: Any = None
    ) -> Any:
        """``mapping[key]`` as a whole number from 1 to its bound in ``limits.MOST``."""
        decl = {key: {"type": "integer", "minimum": 1, "maximum": MOST.get(key)}}
        return self.declared(mapping, key, decl, path, default)


#: JSON Schema types -> the Python types YAML gives them (a bool is no integer)
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


def _as_tuple(types: Any) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def _kind(value: Any) -> str:
    if value is None:
        return "empty"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


def read_spec(doc: Located) -> tuple[PipelineSpec | None, list[Problem]]:
    """Check the document's structure and references; return the spec and all problems."""
    c = Checker(doc)
    root = c.mapping(doc.data, (), "a pipeline file")
    c.unknown_keys(root, TOP_KEYS, (), "the pipeline")
    app_id = c.declared(root, "app", TOP_KEYS, ())
    if app_id is None and "app" not in root:
        c.error((), "missing required key 'app' (the app id)")
    elif isinstance(app_id, str) and not is_safe_name(app_id):
        c.error(
            ("app",),
            f"app id {app_id!r} may only use letters, digits, '.', '_' and '-' "
            "(it names the consumer group, the changelog topics and the table stores)",
        )
    spec = PipelineSpec(file=doc.file, located=doc, app_id=app_id or "")
    spec.broker = c.declared(root, "broker", TOP_KEYS, ())
    spec.datadir = c.declared(root, "datadir", TOP_KEYS, ())
    settings = c.mapping(root.get("settings"), ("settings",), "settings")
    c.unknown_keys(settings, SETTINGS_KEYS, ("settings",), "settings")
    spec.settings = dict(settings)
    spec.broker_settings = dict(
        c.mapping(root.get("broker_settings"), ("broker_settings",), "broker_settings")
    )
    models = root.get("models")
    spec.models = models if isinstance(models, str) else c.mapping(models, ("models",), "models")
    spec.tables = read_tables(c, root.get("tables"))

    topics = c.mapping(root.get("topics"), ("topics",), "topics")
    for name, body in topics.items():
        path: Path_ = ("topics", name)
        if not isinstance(name, str) or not NAME.match(name):
            c.error(path + ("<key>",), f"invalid topic name {name!r} (letters, digits, . _ - only)")
            continue
        body = c.mapping(body, path, f"topic {name!r}")
        c.unknown_keys(body, TOPIC_KEYS, path, f"topic {name!r}")
        spec.topics[name] = TopicDef(
            name=name,
            partitions=c.declared(body, "partitions", TOPIC_KEYS, path),
            compacting=c.declared(body, "compacting", TOPIC_KEYS, path),
            key_type=c.declared(body, "key_type", TOPIC_KEYS, path),
            value_type=c.declared(body, "value_type", TOPIC_KEYS, path),
            key_serializer=c.declared(body, "key_serializer", TOPIC_KEYS, path),
            value_serializer=c.declared(body, "value_serializer", TOPIC_KEYS, path),
            dead_letter=c.declared(body, "dead_letter", TOPIC_KEYS, path),
            on_error=c.declared(body, "on_error", TOPIC_KEYS, path),
            internal=c.declared(body, "internal", TOPIC_KEYS, path),
            config={
                str(k): str(v)
                for k, v in c.mapping(body.get("config"), path + ("config",), "config").items()
            },
            path=path,
        )

    agents = c.mapping(root.get("agents"), ("agents",), "agents")
    for name, body in agents.items():
        path = ("agents", name)
        body = c.mapping(body, path, f"agent {name!r}")
        c.unknown_keys(body, AGENT_KEYS, path, f"agent {name!r}")
        source = c.declared(body, "from", AGENT_KEYS, path)
        misspelt = any(_hint(str(k), AGENT_KEYS) == " (did you mean 'from'?)" for k in body)
        if "from" not in body and not misspelt:  # a misspelt 'from' is reported as such
            c.error(path + ("<key>",), f"agent {name!r} needs 'from': the topic it reads")
        elif source is not None and source not in spec.topics:
            c.error(
                path + ("from",),
                f"agent {name!r} reads undeclared topic {source!r}" + _hint(source, spec.topics),
            )
        sinks_raw = body.get("to", [])
        if isinstance(sinks_raw, str):
            sinks_raw = [sinks_raw]
        sinks: list[str] = []
        if not isinstance(sinks_raw, list):
            c.error(path + ("to",), "to must be a topic name or a list of them")
        else:
            for i, sink in enumerate(sinks_raw):
                where = path + ("to", i) if isinstance(body.get("to"), list) else path + ("to",)
                if not isinstance(sink, str):
                    c.error(where, f"sink must be a topic name, not {_kind(sink)}")
                elif sink not in spec.topics:
                    c.error(
                        where,
                        f"agent {name!r} writes to undeclared topic {sink!r}"
                        + _hint(sink, spec.topics),
                    )
                else:
                    sinks.append(sink)
        use = c.declared(body, "use", AGENT_KEYS, path)
        c.declared(body, "description", AGENT_KEYS, path)  # text, for people
        steps = c.declared(body, "steps", AGENT_KEYS, path, [])
        if use is None and not steps:
            c.error(
                path + ("<key>",),
                f"agent {name!r} needs 'use' (a plugin module:function) or 'steps'",
            )
        if use is not None and steps:
            c.error(path + ("steps",), f"agent {name!r} has both 'use' and 'steps'; pick one")
        spec.agents[name] = AgentDef(
            name=name,
            source=source or "",
            use=use,
            sinks=sinks,
            concurrency=c.declared(body, "concurrency", AGENT_KEYS, path),
            dead_letter=c.declared(body, "dead_letter", AGENT_KEYS, path),
            on_error=c.declared(body, "on_error", AGENT_KEYS, path),
            steps=steps,
            path=path,
        )
    _check_dead_letter_loops(spec, c)
    check_emit_topics(c, spec.tables, spec.topics)
    return spec, c.problems


def _check_dead_letter_loops(spec: PipelineSpec, c: Any) -> None:
    """A dead-letter topic that an agent reads would feed parked records back to it,
    forever for a record that fails every time."""
    readers: dict[str, list[str]] = {}
    for agent in spec.agents.values():
        readers.setdefault(agent.source, []).append(agent.name)
    owners = [(a.path, f"agent {a.name!r}", a.dead_letter) for a in spec.agents.values()]
    owners += [(t.path, f"topic {n!r}", t.dead_letter) for n, t in spec.topics.items()]
    for path, who, dead_letter in owners:
        if dead_letter and dead_letter in readers:
            c.error(
                path + ("dead_letter",),
                f"{who} parks failed records in {dead_letter!r}, which agent "
                f"{readers[dead_letter][0]!r} reads: they would come back to be processed "
                "again, forever; use a topic no agent reads",
            )


def _hint(name: str, known: Any) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
