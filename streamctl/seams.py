"""Named implementations of a seam: built-ins and entry-point plugins, imported lazily.

Every seam (transports, stores, agents, steps, codecs) maps a name to a
``module:attr`` string. Built-ins and plugins (the ``streamctl.<seam>`` entry
point groups) resolve through the same two functions, and nothing is imported
until it is used.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any


def target(group: str, name: str, builtins: Mapping[str, str]) -> str | None:
    """The ``module:attr`` registered as ``name``: a built-in first, then ``group``'s entry points."""
    found = builtins.get(name)
    if found is not None:
        return found
    for ep in entry_points(group=group):
        if ep.name == name:
            return str(ep.value)
    return None


def names(group: str, builtins: Mapping[str, str]) -> list[str]:
    """Every registered name, built-in or plugin."""
    return sorted({*builtins, *(ep.name for ep in entry_points(group=group))})


def load_object(ref: str) -> Any:
    """Import ``module:attr`` (``attr`` may be dotted) and return the attribute."""
    module, _, attr = ref.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attr.split(".") if attr else ():
        obj = getattr(obj, part)
    return obj
