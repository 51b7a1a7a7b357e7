"""Named implementations of a seam: built-ins and entry-point plugins, imported lazily.

Every seam (transports, stores, agents, steps, codecs) maps a name to a
``module:attr`` string. Built-ins and plugins (the ``streamctl.<seam>`` entry
point groups: ``streamctl.transports``, ``streamctl.stores``, ``streamctl.agents``,
``streamctl.steps``, ``streamctl.codecs``) resolve through the same three
functions, and nothing is imported until it is used::

    ref = seams.target("streamctl.stores", "sqlite", BUILTIN)  # "pkg.mod:Class" or None
    cls = seams.load_object(ref)
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from importlib import metadata
from typing import Any


class MissingAttribute(AttributeError):
    """``module:attr`` named a module that imported, but has no such attribute.

    ``module`` and ``attr`` are the two halves of the reference; the message is
    Python's own (``module 'm' has no attribute 'x'``).
    """

    def __init__(self, message: str, *, module: str, attr: str) -> None:
        super().__init__(message)
        self.module = module
        self.attr = attr


def target(group: str, name: str, builtins: Mapping[str, str]) -> str | None:
    """The ``module:attr`` registered as ``name``: a built-in first, then ``group``'s entry points."""
    found = builtins.get(name)
    if found is not None:
        return found
    for ep in metadata.entry_points(group=group):
        if ep.name == name:
            return str(ep.value)
    return None


def names(group: str, builtins: Iterable[str]) -> list[str]:
    """Every registered name, built-in or plugin, sorted."""
    return sorted({*builtins, *(ep.name for ep in metadata.entry_points(group=group))})


def load_object(ref: str) -> Any:
    """Import ``module:attr`` (``attr`` may be dotted; without it, the module) and return it.

    Whatever importing the module raises propagates (ImportError, or any error
    of the module's own code); a missing attribute raises :class:`MissingAttribute`,
    an AttributeError.
    """
    module, _, attr = ref.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attr.split(".") if attr else ():
        try:
            obj = getattr(obj, part)
        except AttributeError as exc:
            raise MissingAttribute(str(exc), module=module, attr=attr) from None
    return obj


def registered(group: str, builtins: Mapping[str, str]) -> list[tuple[str, str, Any]]:
    """``(name, module:attr, distribution)`` for every name, sorted: a built-in (its
    distribution None) wins over an entry point of the same name, as :func:`target` picks."""
    found: dict[str, tuple[str, str, Any]] = {n: (n, t, None) for n, t in builtins.items()}
    for ep in metadata.entry_points(group=group):
        if ep.name not in found:
            found[ep.name] = (ep.name, str(ep.value), getattr(ep, "dist", None))
    return [found[n] for n in sorted(found)]
