"""The exception root every streamctl error derives from."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

_MAX_VALUE_REPR = 80


def short_repr(value: Any, limit: int = _MAX_VALUE_REPR) -> str:
    """``repr(value)`` cut to ``limit`` characters, so a huge payload cannot flood a log line."""
    try:
        text = repr(value)
    except Exception:  # a broken __repr__ must not hide the real error
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def yaml_repr(value: Any) -> str:
    """``value`` as a pipeline file spells it, for messages: ``true``, ``false`` and
    ``null`` (YAML's, not Python's ``True``/``None``), else ``short_repr``."""
    if value is None or isinstance(value, bool):
        return {True: "true", False: "false", None: "null"}[value]
    return short_repr(value)


class StreamctlError(Exception):
    """Base class of every error streamctl raises on purpose.

    The CLI catches only this class and prints its message on one line.
    """

    exit_code = 1


class ConfigurationError(StreamctlError):
    """A pipeline file, option or argument is wrong; nothing was run."""

    exit_code = 2


class DecodeError(StreamctlError):
    """A record could not be decoded or validated."""


class ValidationError(DecodeError):
    """A value broke a field's type or constraint.

    Attributes name the ``model`` (class name), the ``field`` (dotted path, e.g.
    ``customer.id`` or ``items[2]``), the offending ``value`` and the ``rule`` it broke.
    ``errors`` holds every violation found (this one first).
    """

    def __init__(self, model: str, field: str, value: Any, rule: str) -> None:
        self.model = model
        self.field = field
        self.value = value
        self.rule = rule
        self.errors: list[ValidationError] = [self]
        super().__init__(self._format())

    def _format(self) -> str:
        where = f"{self.model}.{self.field}" if self.field else self.model
        text = f"{where}: {self.rule}; got {short_repr(self.value)}"
        extra = len(self.errors) - 1 if hasattr(self, "errors") else 0
        if extra > 0:
            text += f" (and {extra} more error{'s' if extra > 1 else ''})"
        return text

    def with_errors(self, errors: Sequence[ValidationError]) -> ValidationError:
        """Attach the full list of violations and refresh the message."""
        self.errors = list(errors) or [self]
        self.args = (self._format(),)
        return self

    def nested(self, model: str, prefix: str) -> ValidationError:
        """The same violation seen from an enclosing model's field ``prefix``."""
        sep = "" if self.field.startswith("[") or not self.field else "."
        return ValidationError(model, f"{prefix}{sep}{self.field}", self.value, self.rule)
