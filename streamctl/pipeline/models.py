"""The ``models:`` section: Record classes built from YAML definitions, errors with positions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from streamctl.pipeline.errors import PipelineError, Problem
from streamctl.pipeline.limits import FileRefused, inside, read_bounded
from streamctl.pipeline.spec import PipelineSpec
from streamctl.pipeline.yamlpos import Located, load_located

#: field keys checked only when a model has ``options: {validation: true}``
CONSTRAINTS = ("min", "max", "min_length", "max_length", "pattern", "enum")


class Unbuilt(dict[str, Any]):
    """The models when their definitions have problems: every name is "known" (as no type),
    so topics and tables that name a model report no second problem for it."""

    def __contains__(self, name: object) -> bool:
        return True

    def __missing__(self, name: str) -> Any:
        return None


def _definitions(
    spec: PipelineSpec, problems: list[Problem]
) -> tuple[dict[str, Any], Located, tuple[Any, ...]] | None:
    """The model definitions and where they are: inline, or in the file ``models:`` names.

    A model file must be a regular file inside the pipeline's folder tree, at most
    MAX_FILE_BYTES long; anything else is a problem at the ``models:`` key.
    """
    raw = spec.models
    if not isinstance(raw, str):
        return raw, spec.located, ("models",)
    try:
        path = inside(Path(spec.file).parent, raw)
        text = read_bounded(path)
    except FileRefused as exc:
        problems.append(spec.located.problem(("models",), f"model file {raw!r}: {exc.message}"))
        return None
    doc, more = load_located(text, str(path))
    problems.extend(more)
    if doc is None or more:
        return None
    data = doc.data.get("models", doc.data) if isinstance(doc.data, dict) else doc.data
    prefix: tuple[Any, ...] = (
        ("models",) if isinstance(doc.data, dict) and "models" in doc.data else ()
    )
    if not isinstance(data, dict):
        problems.append(doc.problem((), "a model file must be a mapping of model names"))
        return None
    return data, doc, prefix


def build_pipeline_models(spec: PipelineSpec) -> dict[str, type]:
    """Build the pipeline's Record classes; raises PipelineError at the first bad definition."""
    problems: list[Problem] = []
    models = collect_models(spec, problems)
    errors = [p for p in problems if not p.warning]
    if errors:
        raise PipelineError(errors)
    return dict(models)


def collect_models(spec: PipelineSpec, problems: list[Problem]) -> dict[str, Any]:
    """Build the pipeline's Record classes; a bad definition is a Problem at its position
    (then every model name counts as known: see Unbuilt)."""
    if not spec.models:
        return {}
    from streamctl.models.definitions import build_models
    from streamctl.models.exceptions import ModelDefinitionError

    found = _definitions(spec, problems)
    if found is None:
        return Unbuilt()
    defs, doc, prefix = found
    try:
        built: dict[str, Any] = dict(build_models(defs, namespace_prefix=f"{spec.app_id}."))
    except ModelDefinitionError as exc:
        at = prefix + exc.path + (("<key>",) if exc.key else ())
        problems.append(doc.problem(at, exc.message))
        return Unbuilt()
    _warn_unchecked(defs, doc, prefix, problems)
    return built


def _warn_unchecked(
    defs: dict[str, Any], doc: Located, prefix: tuple[Any, ...], problems: list[Problem]
) -> None:
    """A warning for each constraint on a model without ``validation: true``: it is never
    checked (Faust's ``validation=False`` default)."""
    for name, body in defs.items():
        if not isinstance(body, dict):
            continue
        options = body.get("options")
        if isinstance(options, dict) and options.get("validation") is True:
            continue
        fields = body.get("fields")
        for fname, fspec in (fields if isinstance(fields, dict) else {}).items():
            for key in CONSTRAINTS:
                if isinstance(fspec, dict) and key in fspec:
                    at = prefix + (name, "fields", fname, key, "<key>")
                    message = (
                        f"model {name!r} field {fname!r}: {key} is never checked without "
                        "options: {validation: true}"
                    )
                    problems.append(_warning(doc.problem(at, message)))


def _warning(problem: Problem) -> Problem:
    return Problem(problem.file, problem.line, problem.column, problem.message, warning=True)
