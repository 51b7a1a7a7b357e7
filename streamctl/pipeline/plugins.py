"""Resolve ``use:`` references: built-in agents by name, plugins as ``module:function``."""

from __future__ import annotations

import ast
import importlib.machinery
import importlib.util
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from streamctl import seams
from streamctl.exceptions import ConfigurationError
from streamctl.pipeline.limits import FileRefused, read_bounded

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
    except ModuleNotFoundError as exc:
        if exc.name and (module_name + ".").startswith(exc.name + "."):
            raise PluginError(
                f"cannot import plugin module {module_name!r}: no such module"
            ) from None
        raise PluginError(
            f"cannot import plugin module {module_name!r}: {type(exc).__name__}: {exc}"
        ) from None
    except Exception as exc:  # any import failure is the plugin's problem
        raise PluginError(
            f"cannot import plugin module {module_name!r}: {type(exc).__name__}: {exc}"
        ) from None
    fun = getattr(obj, "__wrapped__", obj)
    if not (inspect.iscoroutinefunction(fun) or inspect.isasyncgenfunction(fun)) or not (
        _takes_stream(fun)
    ):
        raise PluginError(
            f"plugin {ref!r} must be an async function taking a stream (async def f(stream))"
        )
    return fun


def _takes_stream(fun: Callable[..., Any]) -> bool:
    """True when ``fun`` can be called with one positional argument (the stream)."""
    try:
        inspect.signature(fun).bind(None)
    except TypeError:
        return False
    except ValueError:  # no signature to read: trust it
        return True
    return True


def _module_source(module_name: str, search_dir: Path | None) -> tuple[str, str | None]:
    """The file and source text of ``module_name``, found without importing it or its
    parent packages (``importlib.machinery.PathFinder``, the pipeline's folder first)."""
    path: list[str] = [str(search_dir)] if search_dir is not None else []
    path += [p for p in sys.path if p != str(search_dir)]
    spec = None
    for depth, part in enumerate(module_name.split(".")):
        spec = importlib.machinery.PathFinder.find_spec(part, path)
        if spec is None:
            if depth == 0:
                # a built-in or frozen module, or a package installed in editable mode
                # (pip install -e: found by its own finder on sys.meta_path, not on
                # sys.path); find_spec of a top-level name imports nothing
                spec = importlib.util.find_spec(part)
            if spec is None:
                raise PluginError(f"cannot import plugin module {module_name!r}: no such module")
        path = list(spec.submodule_search_locations or [])
    origin = spec.origin if spec is not None else None
    if not origin or not origin.endswith(".py"):
        return origin or module_name, None
    try:
        text = read_bounded(Path(origin))
    except FileRefused as exc:
        raise PluginError(f"cannot read plugin module {module_name!r}: {exc.message}") from None
    return origin, text


def check_agent(ref: str, *, search_dir: Path | None = None) -> frozenset[str]:
    """Check ``ref`` as ``resolve_agent`` would, without importing anything: the module is
    found with importlib's finders and read as text; the name must be a top-level
    ``async def`` taking a stream (a name bound any other way, say imported, is taken on
    trust). Raises PluginError.

    Returns the table names the module's code subscripts ``tables`` with
    (``stream.app.tables["counts"]``, ``.tables.get("counts")``): the tables a plugin
    in a pipeline file reaches, as :mod:`streamctl.tables.writers` finds them in an
    imported function."""
    target = _target(ref)
    module_name, _, attr = target.partition(":")
    file, text = _module_source(module_name, search_dir)
    if text is None:
        return frozenset()  # a compiled or namespace module: nothing to read
    try:
        tree = ast.parse(text, filename=file)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise PluginError(
            f"cannot import plugin module {module_name!r}: {type(exc).__name__}: {exc}"
        ) from None
    name = attr.split(".")[0]
    bound: ast.stmt | None = None
    for node in tree.body:
        if _binds(node, name):
            bound = node
    if bound is None and not _dynamic(tree):
        raise PluginError(f"plugin module {module_name!r} has no attribute {attr!r}")
    named = _tables_named(tree)
    if isinstance(bound, ast.Assign) and isinstance(bound.value, ast.Name):
        # `f2 = f`: the function it names, as importing the module would bind it
        alias = bound.value.id
        for node in tree.body:
            if _binds(node, alias) and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                bound = node
    if bound is None:
        return named
    if "." in attr or not isinstance(bound, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return named  # bound by an assignment, import or class: checked when run imports it
    args = bound.args
    positional = len(args.posonlyargs) + len(args.args)
    takes_stream = (
        (positional >= 1 or args.vararg is not None)
        and positional - len(args.defaults) <= 1
        and all(d is not None for d in args.kw_defaults)
    )
    if not isinstance(bound, ast.AsyncFunctionDef) or not takes_stream:
        raise PluginError(
            f"plugin {ref!r} must be an async function taking a stream (async def f(stream))"
        )
    return named


def _tables_named(tree: ast.AST) -> frozenset[str]:
    """String constants the code subscripts an attribute named ``tables`` with, or passes
    to its ``get``: ``x.tables["name"]``, ``x.tables.get("name")``."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript):
            holder, key = node.value, node.slice
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and node.args
        ):
            holder, key = node.func.value, node.args[0]
        else:
            continue
        if (
            isinstance(holder, ast.Attribute)
            and holder.attr == "tables"
            and isinstance(key, ast.Constant)
            and isinstance(key.value, str)
        ):
            names.add(key.value)
    return frozenset(names)


def _binds(node: ast.stmt, name: str) -> bool:
    """True when the top-level statement ``node`` binds ``name``."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return node.name == name
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return any((a.asname or a.name.split(".")[0]) == name for a in node.names)
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        targets = [node.target]
    return any(isinstance(n, ast.Name) and n.id == name for t in targets for n in ast.walk(t))


def _dynamic(tree: ast.Module) -> bool:
    """True when the module may bind names a static look cannot see (``import *``,
    a module ``__getattr__``)."""
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "__getattr__":
            return True
    return False
