"""The global registry of model classes by namespace, and blessed-key resolution rules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from streamctl.models.base import Model

#: The key holding model metadata in serialized records (Faust's name, for compatibility).
BLESSED_KEY = "__faust"

#: namespace -> model class. Every concrete model registers itself when its class is
#: created; a later class with the same namespace replaces the earlier one (as in Faust).
registry: dict[str, type[Model]] = {}


def namespace_of(data: Any) -> str | None:
    """The namespace named by ``data["__faust"]["ns"]``, or None when absent/malformed."""
    try:
        ns = data[BLESSED_KEY]["ns"]
    except (KeyError, TypeError, IndexError):
        return None
    return ns if isinstance(ns, str) else None
