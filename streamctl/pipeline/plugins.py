"""Resolve ``use:`` references: built-in agents by name, plugins as ``module:function``."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from streamctl import seams
from streamctl.exceptions import ConfigurationError

BUILTIN_AGENTS: dict[str, str] = {
    "forward": "streamctl.pipeline.builtins:forward",
    "log": "streamctl.pipeline.builtins:log_values",
}


class PluginError(ConfigurationError):
    """A plugin reference does not resolve to an async agent function."""


def _target(ref: str) -> str:
    if ":" in ref:
        return ref
    found = seams.target("streamctl.agents", ref, BUILTIN_AGENTS)
    if found is not None:
        return found
    known = ", ".join(seams.names("streamctl.agents", BUILTIN_AGENTS))
    raise PluginError(f"unknown agent {ref!r}: use module:function or a built-in ({known})")


def resolve_agent(ref: str, *, search_dir: Path | None = None) -> Callable[..., Any]:
    """Import the agent function ``ref`` names; the pipeline's folder is importable."""
    target = _target(ref)
    module_name, _, attr = target.partition(":")
    if search_dir is not None and str(search_dir) not in sys.path:
        sys.path.insert(0, str(search_dir))
    try:
        obj = seams.load_object(target)
    except seams.MissingAttribute:
        raise PluginError(f"plugin module {module_name!r} has no attribute {attr!r}") from None
    except Exception as exc:  # any import failure is the plugin's problem
        raise PluginError(
            f"cannot import plugin module {module_name!r}: {type(exc).__name__}: {exc}"
        ) from None
    fun = getattr(obj, "__wrapped__", obj)
    if not (inspect.iscoroutinefunction(fun) or inspect.isasyncgenfunction(fun)):
        raise PluginError(
            f"plugin {ref!r} must be an async function taking a stream (async def f(stream))"
        )
    return fun
