"""Load a pipeline file: read, check, build the App; or only report its problems."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from streamctl.app import App
from streamctl.pipeline.build import build_app
from streamctl.pipeline.errors import PipelineError, Problem
from streamctl.pipeline.spec import PipelineSpec, read_spec
from streamctl.pipeline.yamlpos import load_located


@dataclass
class Pipeline:
    """A loaded pipeline file: its spec and the App built from it."""

    path: Path
    spec: PipelineSpec
    app: App


def read_pipeline_spec(path: str | Path) -> PipelineSpec:
    """Parse and check a pipeline file's structure (no imports, nothing built)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PipelineError([Problem(str(path), 1, 1, "no such pipeline file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PipelineError(
            [Problem(str(path), 1, 1, f"cannot read pipeline file: {exc}")]
        ) from None
    doc, problems = load_located(text, str(path))
    if doc is None:
        raise PipelineError(problems)
    spec, more = read_spec(doc)
    problems += more
    if problems or spec is None:
        raise PipelineError(problems)
    return spec


def load_pipeline(
    path: str | Path, *, broker: str | None = None, datadir: str | Path | None = None
) -> Pipeline:
    """Read a pipeline file and build its App. Raises PipelineError with every problem found."""
    spec = read_pipeline_spec(path)
    models = _build_models(spec)
    app = build_app(spec, broker=broker, datadir=datadir, models=models)
    return Pipeline(Path(path), spec, app)


def _build_models(spec: PipelineSpec) -> dict[str, type]:
    if not spec.models:
        return {}
    from streamctl.pipeline.models import build_pipeline_models

    return build_pipeline_models(spec)


def check_pipeline(path: str | Path) -> list[Problem]:
    """Every problem loading ``path`` finds, without running anything ([] when clean)."""
    try:
        load_pipeline(path)
    except PipelineError as exc:
        return exc.problems
    return []
