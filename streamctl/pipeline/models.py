"""The ``models:`` section: Record classes built from YAML definitions, errors with positions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from streamctl.pipeline.errors import PipelineError, Problem
from streamctl.pipeline.spec import PipelineSpec
from streamctl.pipeline.yamlpos import Located, load_located


def _definitions(spec: PipelineSpec) -> tuple[dict[str, Any], Located, tuple[Any, ...]]:
    """The model definitions and where they are: inline, or in the file ``models:`` names."""
    raw = spec.models
    if isinstance(raw, str):
        path = (Path(spec.file).parent / raw).resolve()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise PipelineError(
                [spec.located.problem(("models",), f"cannot read model file {raw}: {exc.strerror}")]
            ) from None
        doc, problems = load_located(text, str(path))
        if doc is None or problems:
            raise PipelineError(problems)
        data = doc.data.get("models", doc.data) if isinstance(doc.data, dict) else doc.data
        prefix: tuple[Any, ...] = (
            ("models",) if isinstance(doc.data, dict) and "models" in doc.data else ()
        )
        if not isinstance(data, dict):
            raise PipelineError([doc.problem((), "a model file must be a mapping of model names")])
        return data, doc, prefix
    return raw, spec.located, ("models",)


def build_pipeline_models(spec: PipelineSpec) -> dict[str, type]:
    """Build the pipeline's Record classes; a bad definition is a Problem at its position."""
    from streamctl.models.definitions import build_models
    from streamctl.models.exceptions import ModelDefinitionError

    defs, doc, prefix = _definitions(spec)
    try:
        return build_models(defs, namespace_prefix=f"{spec.app_id}.")
    except ModelDefinitionError as exc:
        at = prefix + exc.path + (("<key>",) if exc.key else ())
        problem: Problem = doc.problem(at, exc.message)
        raise PipelineError([problem]) from None
