"""Load YAML into plain Python data plus a map from key paths to line:column."""

from __future__ import annotations

from typing import Any

import yaml

from streamctl import envvars
from streamctl.pipeline.errors import Problem
from streamctl.pipeline.limits import MAX_DEPTH, MAX_NODES
from streamctl.redact import is_secret

Path_ = tuple[Any, ...]


class Located:
    """YAML data with the position of every mapping key and value, by path."""

    def __init__(
        self,
        file: str,
        data: Any,
        marks: dict[Path_, tuple[int, int]],
        inline: dict[Path_, list[tuple[int, int]]] | None = None,
        yaml11: dict[Path_, str] | None = None,
    ) -> None:
        self.file = file
        self.data = data
        self.marks = marks
        #: text scalars: path -> line and column of each character of the value, and of
        #: the end (see _scalar_positions)
        self.inline = inline or {}
        #: plain scalars YAML 1.1 reads as booleans but YAML 1.2 (editors) as text
        #: (``no``, ``on``, ``yes``, ``off``): path -> the text written; a mapping key's
        #: path ends with ``"<key>"``
        self.yaml11 = yaml11 or {}

    def where(self, path: Path_) -> tuple[int, int]:
        """Line and column (1-based) of ``path``, or of its nearest ancestor known."""
        p = tuple(path)
        while p and p not in self.marks:
            p = p[:-1]
        return self.marks.get(p, (1, 1))

    def problem(self, path: Path_, message: str, offset: int = 0) -> Problem:
        """A Problem at ``path``; ``offset`` points inside a text scalar's value (0-based,
        in decoded characters), placed where that character is written in the file."""
        line, col = self.where(path)
        positions = self.inline.get(tuple(path))
        if positions:
            line, col = positions[min(max(offset, 0), len(positions) - 1)]
        return Problem(self.file, line, col, message)


#: the event parser for the size pre-scan: libyaml's when PyYAML has it (much faster)
_FAST: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _TooLarge(Exception):
    """The document expands past MAX_NODES; ``node`` is where the budget ran out."""

    def __init__(self, node: yaml.Node) -> None:
        super().__init__("too large")
        self.node = node


class _Builder:
    def __init__(self, file: str, refs: dict[str, str] | None = None) -> None:
        self.file = file
        #: placeholder -> ``${...}`` (see envvars.protect)
        self.refs = refs or {}
        self.budget = MAX_NODES
        self.marks: dict[Path_, tuple[int, int]] = {}
        self.inline: dict[Path_, list[tuple[int, int]]] = {}
        self.problems: list[Problem] = []
        self.yaml11: dict[Path_, str] = {}
        self.constructor = yaml.SafeLoader("")

    def mark(self, path: Path_, node: yaml.Node) -> None:
        self.marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise _TooLarge(node)
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.build(key_node, path + ("<key>",))
                if _yaml11_bool(key_node, key):
                    self.yaml11[path + (key, "<key>")] = key_node.value
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
        if _yaml11_bool(node, value) and path[-1:] != ("<key>",):
            self.yaml11[path] = node.value
        if self.refs and isinstance(value, str):
            value = envvars.restore(value, self.refs)
        if isinstance(value, str) and "${" in value:
            value = self.expand(value, node)
            if not node.style and not (path and is_secret(str(path[-1]))):
                value = _plain_scalar(value)
        elif isinstance(value, str) and path[-1:] != ("<key>",):
            positions = _scalar_positions(node, value)
            if positions is not None:
                self.inline[path] = positions
        return value

    def expand(self, value: str, node: yaml.Node) -> str:
        def missing(name: str) -> None:
            line, col = node.start_mark.line + 1, node.start_mark.column + 1
            self.problems.append(
                Problem(self.file, line, col, f"environment variable {name} is not set")
            )

        return envvars.expand(value, missing)


_ESCAPE_WIDTH = {"x": 4, "u": 6, "U": 10}


def _scalar_positions(node: yaml.ScalarNode, value: str) -> list[tuple[int, int]] | None:
    """Line and column (1-based) in the file of each character of a scalar's decoded
    ``value``, plus one past its end; None when the text cannot be matched to the file.

    Decoded text differs from what is written: a double-quoted ``\\"`` is one character,
    a single-quoted ``''`` one quote, a block scalar's indentation is not in its value,
    and a folded line break reads as a space; so offsets into ``value`` are walked back
    to the file character by character."""
    buffer = getattr(node.start_mark, "buffer", None)
    if not isinstance(buffer, str):
        return None
    start, end = node.start_mark.pointer, node.end_mark.pointer
    line, col = node.start_mark.line + 1, node.start_mark.column + 1
    style = node.style or ""
    i = start
    if style in ("|", ">"):  # the value starts on the line after the block indicator
        while i < end and buffer[i] != "\n":
            i += 1
    elif style in ("'", '"'):
        i, col = i + 1, col + 1
    out: list[tuple[int, int]] = []

    def advance(to: int) -> None:
        nonlocal i, line, col
        while i < to:
            if buffer[i] == "\n":
                line, col = line + 1, 1
            else:
                col += 1
            i += 1

    for c in value:
        while i < end:
            s = buffer[i]
            if style == '"' and s == "\\":
                nxt = buffer[i + 1 : i + 2]
                if nxt == "\n":  # an escaped line break: nothing in the value
                    advance(i + 2)
                    continue
                out.append((line, col))
                advance(i + _ESCAPE_WIDTH.get(nxt, 2))
                break
            if style == "'" and c == "'" and buffer[i : i + 2] == "''":
                out.append((line, col))
                advance(i + 2)
                break
            if s == c or (c == " " and s == "\n" and style != "|"):
                out.append((line, col))
                advance(i + 1)
                break
            advance(i + 1)
        else:
            return None
    out.append((line, col))
    return out


def _yaml11_bool(node: yaml.Node, value: Any) -> bool:
    """True for a plain ``yes``/``no``/``on``/``off`` (any case): PyYAML reads YAML 1.1,
    where it is a boolean; YAML 1.2 (editors' language servers) reads it as text."""
    return (
        isinstance(value, bool)
        and isinstance(node, yaml.ScalarNode)
        and not node.style
        and node.value.lower() not in ("true", "false")
    )


def _plain_scalar(text: str) -> Any:
    """An unquoted scalar after ``${VAR}`` expansion, typed as YAML types the same text
    (``500`` an int, ``true`` a bool); text that is not one scalar stays text. Secrets
    (by their key) are never retyped."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, (bool, int, float)) else text


def _at(file: str, mark: Any, message: str) -> Problem:
    return Problem(file, mark.line + 1, mark.column + 1, message)


def _too_large(text: str, file: str, loader: Any = _FAST) -> Problem | None:
    """A problem at the first collection nested deeper than MAX_DEPTH, or at the first
    alias that takes the document past MAX_NODES nodes once aliases are expanded; else None.

    Walks the event stream (no recursion, no expansion): each anchor's expanded size is
    noted when its node ends, and an alias adds that size. libyaml (PyYAML 6.0.4's
    wheels) stops at its own nesting limit with a scanner error before it emits the
    events this counts, so a scanner error from it is walked again with PyYAML's own
    parser, which is iterative too, to find the position and say it as everywhere else.
    """
    sizes: dict[str, int] = {}
    stack: list[list[Any]] = [[0, None]]  # per open collection: [expanded size, anchor]
    total = 0
    try:
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, yaml.AliasEvent):
                size = sizes.get(event.anchor or "", 1)
            elif isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
                size = 1
            elif isinstance(event, yaml.CollectionEndEvent):
                size, anchor = stack.pop()
                if anchor:
                    sizes[anchor] = size
                stack[-1][0] += size
                continue
            else:
                continue
            total += size
            if total > MAX_NODES:
                what = (
                    "expands to more than {:,} nodes once aliases are resolved (an alias bomb?); "
                    "write the data out or use fewer aliases"
                    if isinstance(event, yaml.AliasEvent)
                    else "has more than {:,} nodes; split the file"
                )
                return _at(file, event.start_mark, "YAML " + what.format(MAX_NODES))
            if isinstance(event, yaml.CollectionStartEvent):
                stack.append([1, event.anchor])
                if len(stack) - 1 > MAX_DEPTH:
                    return _at(
                        file,
                        event.start_mark,
                        f"YAML nested deeper than {MAX_DEPTH} levels; flatten the structure",
                    )
                continue
            if isinstance(event, yaml.ScalarEvent) and event.anchor:
                sizes[event.anchor] = 1
            stack[-1][0] += size
    except yaml.YAMLError:
        if loader is not yaml.SafeLoader:
            return _too_large(text, file, yaml.SafeLoader)
        return None  # a syntax error: reported, worded as always, by the composer
    return None


def load_located(text: str, file: str) -> tuple[Located | None, list[Problem]]:
    """Parse ``text``; on a syntax error return no data and one problem with its position.

    Bounded: nesting deeper than MAX_DEPTH, or more than MAX_NODES nodes once
    aliases are expanded (a billion-laughs file), is one problem with its position.
    """
    # ${VAR} references are hidden from the YAML parser (same columns), so they also work
    # inside flow mappings: settings: {x: ${V:-y}}
    text, refs = envvars.protect(text)
    try:
        large = _too_large(text, file)
        if large is not None:
            return None, [large]
        # PyYAML's own composer: libyaml places some nodes (an empty value) differently
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
    except RecursionError:
        return None, [Problem(file, 1, 1, "YAML nested too deeply; flatten the structure")]
    if node is None:
        return Located(file, {}, {}), []
    builder = _Builder(file, refs)
    try:
        data = builder.build(node, ())
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return None, [Problem(file, line, col, f"YAML error: {exc.problem}")]
    except _TooLarge as exc:
        message = (
            f"YAML expands to more than {MAX_NODES:,} nodes once aliases are resolved "
            "(an alias bomb?); write the data out or use fewer aliases"
        )
        return None, [_at(file, exc.node.start_mark, message)]
    except RecursionError:
        return None, [Problem(file, 1, 1, "YAML nested too deeply; flatten the structure")]
    return Located(file, data, builder.marks, builder.inline, builder.yaml11), builder.problems
