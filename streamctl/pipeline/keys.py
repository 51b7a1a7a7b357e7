"""The keys of a pipeline file, declared once: each key's JSON Schema fragment (type, default, bounds, description).

The checker (:mod:`streamctl.pipeline.spec`, :mod:`~streamctl.pipeline.tables`,
:mod:`~streamctl.pipeline.windowspec`) takes the key names from these mappings (an
unknown key is one not here) and the types, defaults and bounds of plain keys through
:meth:`streamctl.pipeline.spec.Checker.declared`; :mod:`streamctl.pipeline.jsonschema`
builds ``schemas/pipeline.schema.json`` (Draft 2020-12) from the same mappings and each
step's ``Step.schema``. The checker reads ``type``, ``default``, ``minimum`` and
``maximum``; ``enum``, ``pattern`` and nested shapes are checked (with their own
messages) by the code that uses the value, and are here for editors.
"""

from __future__ import annotations

from typing import Any

from streamctl.pipeline.limits import MOST
from streamctl.settings import INT32_MAX

Decl = dict[str, dict[str, Any]]

#: a duration: seconds, or text such as 90s, 1m, 1h30m, 1d, 250ms
DURATION: dict[str, Any] = {
    "type": ["number", "string"],
    "pattern": r"^\s*(\d+(\.\d+)?(ms|s|m|h|d)\s*)+$",
    "description": "seconds, or text such as 90s, 1m, 1h30m, 1d",
}
ON_ERROR = {"enum": ["stop", "skip", "dead_letter"]}


def _s(description: str, **more: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **more}


def _pos(key: str, description: str) -> dict[str, Any]:
    return {"type": "integer", "minimum": 1, "maximum": MOST[key], "description": description}


TOP_KEYS: Decl = {
    "app": _s("the app id (also the consumer group)", pattern=r"^[A-Za-z0-9._-]+$"),
    "broker": _s("broker URL: local:// (default) or kafka://host:port", default="local://"),
    "datadir": _s("where the embedded broker and table stores live"),
    "settings": {
        "type": "object",
        "description": "engine settings (max_poll_records, poll_timeout, processing_guarantee, ...)",
    },
    "broker_settings": {
        "type": "object",
        "description": "transport options passed to the broker client (security, tuning)",
    },
    "topics": {"type": "object", "description": "topics by name"},
    "agents": {"type": "object", "description": "agents by name"},
    "tables": {"type": "object", "description": "tables by name"},
    "models": {
        "type": ["object", "string"],
        "description": "record models by name, or the path of a YAML file holding them",
    },
    "tests": {
        "type": "array",
        "description": "unit tests that `streamctl test` runs on an in-memory broker",
    },
}
TOPIC_KEYS: Decl = {
    "partitions": _pos("partitions", "partition count (default: the setting topic_partitions)"),
    "compacting": {"type": "boolean", "default": False, "description": "a compacted topic"},
    "key_type": _s("str (default), bytes, json, int, float, bool or a model", default="str"),
    "value_type": _s("str, bytes, json (default), int, float, bool or a model"),
    "key_serializer": _s("raw or json (default: from key_type)"),
    "value_serializer": _s("raw or json (default: from value_type)"),
    "dead_letter": _s("topic for records that do not decode or validate"),
    "on_error": {**ON_ERROR, "type": "string", "description": "what a bad record does"},
    "internal": {"type": "boolean", "default": False, "description": "an internal topic"},
    "config": {"type": "object", "description": "topic configs (Kafka's names)"},
}
AGENT_KEYS: Decl = {
    "from": _s("the topic the agent reads"),
    "use": _s("a plugin agent module:function, or a built-in agent (forward, log)"),
    "to": {
        "type": ["string", "array"],
        "items": {"type": "string"},
        "description": "sink topics: what the agent yields goes there",
    },
    "concurrency": {**_pos("concurrency", "agent instances"), "default": 1},
    "dead_letter": _s("topic where records the agent fails on are parked, with the reason"),
    "on_error": {
        **ON_ERROR,
        "type": "string",
        "description": "stop, skip or dead_letter (default with a dead_letter topic)",
    },
    "steps": {"type": "array", "description": "the step chain (instead of use)"},
    "description": _s("what the agent does"),
}
SETTINGS_KEYS: Decl = {
    "max_poll_records": {"type": "integer", "minimum": 1, "default": 5000},
    "commit_interval": {"type": "number", "minimum": 0, "default": 0.5, "description": "seconds"},
    "poll_timeout": {"type": "number", "minimum": 0, "default": 0.2, "description": "seconds"},
    "processing_guarantee": {"type": "string", "enum": ["at_least_once", "exactly_once"]},
    "topic_partitions": {**_pos("topic_partitions", "default partitions"), "default": 1},
    "table_standby_replicas": {
        "type": "integer",
        "minimum": 0,
        "maximum": INT32_MAX,
        "default": 1,
    },
    "table_store": _s("sqlite:// (default) or memory://", default="sqlite://"),
    "broker_start_timeout": {"type": "number", "minimum": 0, "default": 60.0},
    "broker_wait_timeout": {"type": "number", "minimum": 0, "default": 300.0},
    "worker_id": _s("names the worker (and its transactional producer)"),
    "metrics_port": {"type": "integer", "minimum": 0, "maximum": 65535},
    "web_host": _s("address the metrics and web view listen on", default="127.0.0.1"),
    "window_wall_clock": {
        "type": "boolean",
        "default": True,
        "description": "a quiet partition's windows close on the wall clock",
    },
    "window_punctuate_interval": {
        "type": "number",
        "minimum": 0,
        "default": 1.0,
        "description": "seconds between wall-clock window punctuations",
    },
    "window_close_on_idle": {
        "type": "boolean",
        "default": True,
        "description": "--until-idle closes the windows still open once the input is drained",
    },
    "control_host": _s(
        "address the control channel of streamctl table listens on (and, if not loopback, "
        "announces in the Kafka group)",
        default="127.0.0.1",
    ),
}
TABLE_KEYS: Decl = {
    "kind": {**_s("table kind", default="table"), "enum": ["table", "global", "set", "set_global"]},
    "default": {"description": "a factory (int, float, str, list, dict, set) or a literal"},
    "key_type": _s("str, bytes, json, int, float, bool or a model"),
    "value_type": _s("str, bytes, json, int, float, bool or a model"),
    "partitions": _pos("partitions", "partitions (default: those of the stream writing it)"),
    "help": _s("what the table holds"),
    "changelog_topic": _s("the changelog topic (default <app>-<table>-changelog)"),
    "window": {"type": "object", "description": "tumbling, hopping, sliding or session window"},
    "emit": {"type": "object", "description": "send each window's value: {on, to}"},
}
WINDOW_KEYS: Decl = {
    "tumbling": DURATION,
    "hopping": {
        "type": "object",
        "properties": {"size": DURATION, "step": DURATION},
        "required": ["size", "step"],
        "additionalProperties": False,
    },
    "sliding": {
        "type": "object",
        "properties": {"before": DURATION, "after": DURATION},
        "required": ["before", "after"],
        "additionalProperties": False,
    },
    "session": {
        "type": "object",
        "properties": {"gap": DURATION},
        "required": ["gap"],
        "additionalProperties": False,
        "description": "session windows: close after gap without an event of their key",
    },
    "expires": DURATION,
    "grace": DURATION,
    "time": _s("the field holding event time (default: the record timestamp)"),
    "time_unit": {**_s("the unit of a numeric time field"), "enum": ["s", "ms"]},
    "late": {**_s("what a late event does"), "enum": ["drop", "dead_letter"], "default": "drop"},
}
EMIT_KEYS: Decl = {
    "on": {**_s("close: final values; update: after every change"), "enum": ["close", "update"]},
    "to": _s("the topic"),
}
