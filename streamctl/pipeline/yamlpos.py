"""Load YAML into plain Python data plus a map from key paths to line:column."""

from __future__ import annotations

from typing import Any

import yaml

from streamctl import envvars
from streamctl.pipeline.errors import Problem
from streamctl.redact import is_secret

Path_ = tuple[Any, ...]


class Located:
    """YAML data with the position of every mapping key and value, by path."""

    def __init__(
        self,
        file: str,
        data: Any,
        marks: dict[Path_, tuple[int, int]],
        inline: dict[Path_, int] | None = None,
    ) -> None:
        self.file = file
        self.data = data
        self.marks = marks
        #: one-line plain or quoted scalars: path -> width of the opening quote (0 or 1)
        self.inline = inline or {}

    def where(self, path: Path_) -> tuple[int, int]:
        """Line and column (1-based) of ``path``, or of its nearest ancestor known."""
        p = tuple(path)
        while p and p not in self.marks:
            p = p[:-1]
        return self.marks.get(p, (1, 1))

    def problem(self, path: Path_, message: str, offset: int = 0) -> Problem:
        """A Problem at ``path``; ``offset`` points inside a one-line scalar's text."""
        line, col = self.where(path)
        quote = self.inline.get(tuple(path))
        if quote is not None:
            col += quote + offset
        return Problem(self.file, line, col, message)


class _Builder:
    def __init__(self, file: str, refs: dict[str, str] | None = None) -> None:
        self.file = file
        #: placeholder -> ``${...}`` (see envvars.protect)
        self.refs = refs or {}
        self.marks: dict[Path_, tuple[int, int]] = {}
        self.inline: dict[Path_, int] = {}
        self.problems: list[Problem] = []
        self.constructor = yaml.SafeLoader("")

    def mark(self, path: Path_, node: yaml.Node) -> None:
        self.marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)

    def build(self, node: yaml.Node, path: Path_) -> Any:
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.build(key_node, path + ("<key>",))
                if key in out:
                    line, col = key_node.start_mark.line + 1, key_node.start_mark.column + 1
                    self.problems.append(Problem(self.file, line, col, f"duplicate key {key!r}"))
                    continue
                self.mark(path + (key,), value_node)
                self.marks[path + (key, "<key>")] = (
                    key_node.start_mark.line + 1,
                    key_node.start_mark.column + 1,
                )
                out[key] = self.build(value_node, path + (key,))
            return out
        if isinstance(node, yaml.SequenceNode):
            items = []
            for i, item in enumerate(node.value):
                self.mark(path + (i,), item)
                items.append(self.build(item, path + (i,)))
            return items
        value = self.constructor.construct_object(node, deep=True)
        if self.refs and isinstance(value, str):
            value = envvars.restore(value, self.refs)
        if isinstance(value, str) and "${" in value:
            value = self.expand(value, node)
            if not node.style and not (path and is_secret(str(path[-1]))):
                value = _plain_scalar(value)
        elif (
            isinstance(value, str)
            and node.start_mark.line == node.end_mark.line
            and node.style in (None, "", "'", '"')
            and "\\" not in value
        ):
            self.inline[path] = 0 if not node.style else 1
        return value

    def expand(self, value: str, node: yaml.Node) -> str:
        def missing(name: str) -> None:
            line, col = node.start_mark.line + 1, node.start_mark.column + 1
            self.problems.append(
                Problem(self.file, line, col, f"environment variable {name} is not set")
            )

        return envvars.expand(value, missing)


def _plain_scalar(text: str) -> Any:
    """An unquoted scalar after ``${VAR}`` expansion, typed as YAML types the same text
    (``500`` an int, ``true`` a bool); text that is not one scalar stays text. Secrets
    (by their key) are never retyped."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, (bool, int, float)) else text


def load_located(text: str, file: str) -> tuple[Located | None, list[Problem]]:
    """Parse ``text``; on a syntax error return no data and one problem with its position."""
    # ${VAR} references are hidden from the YAML parser (same columns), so they also work
    # inside flow mappings: settings: {x: ${V:-y}}
    text, refs = envvars.protect(text)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = exc.problem or str(exc)
        if exc.context:
            what = f"{exc.context}, {what}"
        return None, [Problem(file, line, col, f"YAML syntax error: {what}")]
    except yaml.YAMLError as exc:
        return None, [Problem(file, 1, 1, f"YAML error: {exc}")]
    if node is None:
        return Located(file, {}, {}), []
    builder = _Builder(file, refs)
    try:
        data = builder.build(node, ())
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return None, [Problem(file, line, col, f"YAML error: {exc.problem}")]
    return Located(file, data, builder.marks, builder.inline), builder.problems
