"""Errors raised by models: validation failures and bad YAML model definitions."""

from __future__ import annotations

from collections.abc import Sequence

from streamctl.exceptions import ConfigurationError, ValidationError, short_repr


class ModelDefinitionError(ConfigurationError):
    """A YAML model definition is wrong; ``path`` is the key path to the bad node.

    For example ``("Order", "fields", "quantity", "min")``; the pipeline loader maps the
    path to file, line and column. ``key`` is true when the mistake is the last key of
    ``path`` itself (an unknown option, a bad field name), not the value under it.
    """

    def __init__(self, message: str, path: Sequence[str | int] = (), *, key: bool = False) -> None:
        self.message = message
        self.path = tuple(path)
        self.key = key
        where = ".".join(str(p) for p in self.path)
        super().__init__(f"{where}: {message}" if where else message)


__all__ = ["ModelDefinitionError", "ValidationError", "short_repr"]
