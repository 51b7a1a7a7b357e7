"""``${VAR}`` and ``${VAR:-default}`` in configuration text, filled in from the environment.

One expander for pipeline files and ``--broker-setting`` values, so a secret
never has to be written into a file or appear in the process list::

    expand("${KAFKA_USER:-streamer}")  # $KAFKA_USER if set, else "streamer"
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping

#: ``${NAME}`` or ``${NAME:-default}``; NAME as in a POSIX shell, the default up to ``}``
PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand(
    text: str,
    on_missing: Callable[[str], None] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> str:
    """``text`` with each ``${NAME}`` replaced by the variable's value.

    An unset NAME takes its ``:-default`` when it has one; otherwise it becomes
    the empty string and ``on_missing(NAME)`` is called, so the caller decides
    whether that is an error (it is, in a pipeline file and on the command line).
    ``environ`` defaults to ``os.environ``.
    """
    env = os.environ if environ is None else environ

    def sub(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        if on_missing is not None:
            on_missing(name)
        return ""

    return PATTERN.sub(sub, text)


def protect(text: str) -> tuple[str, dict[str, str]]:
    """``text`` with each one-line ``${...}`` replaced by a placeholder of the same length.

    ``${V:-y}`` is not valid inside a YAML flow mapping (``{x: ${V:-y}}``: the braces
    open a mapping), so pipeline files are parsed with placeholders (``$0001$``: plain
    YAML text, same columns, so every position reported stays right) and each scalar is
    given its ``${...}`` back with :func:`restore` before :func:`expand`.
    Returns the text and the map placeholder -> original.
    """
    originals: dict[str, str] = {}

    def sub(m: re.Match[str]) -> str:
        ref = m.group(0)
        width = len(ref) - 2
        token = f"${len(originals):0{width}x}$"
        if "\n" in ref or len(token) != len(ref) or token in text:
            return ref
        originals[token] = ref
        return token

    return PATTERN.sub(sub, text), originals


def restore(text: str, originals: Mapping[str, str]) -> str:
    """Undo :func:`protect` in one scalar of the protected text."""
    if "$" not in text:
        return text
    for token, ref in originals.items():
        if token in text:
            text = text.replace(token, ref)
    return text
