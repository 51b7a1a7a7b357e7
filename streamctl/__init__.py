"""streamctl: Faust-style stateful stream processing with a declarative CLI.

``import streamctl`` has no side effects; names are imported on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0.dev0"

_EXPORTS = {
    "App": "streamctl.app",
    "Topic": "streamctl.topics",
    "Agent": "streamctl.agents",
    "Stream": "streamctl.streams",
    "Event": "streamctl.events",
    "current_event": "streamctl.events",
    "Table": "streamctl.tables",
    "GlobalTable": "streamctl.tables",
    "SetTable": "streamctl.tables",
    "SetGlobalTable": "streamctl.tables",
    "StreamctlError": "streamctl.exceptions",
    "Window": "streamctl.tables.windows",
    "HoppingWindow": "streamctl.tables.windows",
    "TumblingWindow": "streamctl.tables.windows",
    "SlidingWindow": "streamctl.tables.windows",
    "SessionWindow": "streamctl.tables.windows",
    "WindowSet": "streamctl.tables.windows",
    "WindowWrapper": "streamctl.tables.windows",
}
_MODEL_EXPORTS = (
    "Model",
    "Record",
    "ModelOptions",
    "FieldDescriptor",
    "DatetimeField",
    "DecimalField",
    "StringField",
    "maybe_model",
    "registry",
)

__all__ = ["__version__", *_EXPORTS, *_MODEL_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name) or ("streamctl.models" if name in _MODEL_EXPORTS else None)
    if module is None:
        raise AttributeError(f"module 'streamctl' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
