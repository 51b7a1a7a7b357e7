"""Load a pipeline file: read, check, build the App; or only report its problems."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streamctl.app import App
from streamctl.pipeline.build import build_app
from streamctl.pipeline.errors import PipelineError, Problem
from streamctl.pipeline.limits import FileRefused, read_bounded
from streamctl.pipeline.spec import PipelineSpec, read_spec
from streamctl.pipeline.yamlpos import load_located


@dataclass
class Pipeline:
    """A loaded pipeline file: its spec and the App built from it."""

    path: Path
    spec: PipelineSpec
    app: App
    #: what did not stop loading but may surprise (constraints never checked, ...)
    warnings: list[Problem]


def read_pipeline_spec(path: str | Path) -> PipelineSpec:
    """Parse and check a pipeline file's structure (no imports, nothing built)."""
    spec, problems = _read(Path(path))
    if problems or spec is None:
        raise PipelineError(problems)
    return spec


def _read(path: Path) -> tuple[PipelineSpec | None, list[Problem]]:
    try:
        text = read_bounded(path)
    except FileRefused as exc:
        what = "no such pipeline file" if exc.message == "no such file" else exc.message
        return None, [Problem(str(path), 1, 1, f"cannot read pipeline file: {what}")]
    doc, problems = load_located(text, str(path))
    if doc is None:
        return None, problems
    spec, more = read_spec(doc)
    return spec, problems + more


def _load(
    path: Path,
    *,
    broker: str | None,
    datadir: str | Path | None,
    broker_settings: dict[str, Any] | None,
    import_plugins: bool,
    adjust: Callable[[PipelineSpec], None] | None = None,
) -> tuple[Pipeline | None, list[Problem]]:
    """Every problem ``run`` would refuse ``path`` for (and the warnings), and the Pipeline
    when there is none: each stage runs even when an earlier one found problems.
    ``adjust`` changes the checked spec before the App is built."""
    spec, problems = _read(path)
    if spec is None:
        return None, problems
    if adjust is not None:
        adjust(spec)
    if not import_plugins:  # validate: the pipeline's unit tests too (streamctl test runs them)
        from streamctl.pipeline.testfiles import gather_tests

        problems += gather_tests(spec, path)[1]
    from streamctl.pipeline.models import collect_models

    models = collect_models(spec, problems)
    extra = dict(broker_settings or {})
    app = build_app(
        spec,
        broker=broker,
        datadir=datadir,
        models=models,
        extra_broker_settings=extra,
        import_plugins=import_plugins,
        problems=problems,
    )
    errors = [p for p in problems if not p.warning]
    warnings = sorted((p for p in problems if p.warning), key=Problem.sort_key)
    if errors or app is None:
        return None, sorted(problems, key=Problem.sort_key)
    app.conf.broker_settings.update(extra)
    return Pipeline(path, spec, app, warnings), warnings


def load_pipeline(
    path: str | Path,
    *,
    broker: str | None = None,
    datadir: str | Path | None = None,
    broker_settings: dict[str, Any] | None = None,
) -> Pipeline:
    """Read a pipeline file and build its App, importing its plugins.

    ``broker_settings`` (``-S KEY=VALUE``) go over the file's and are checked with them.
    Raises PipelineError with every problem found, sorted by file and line.
    """
    return _built(Path(path), broker=broker, datadir=datadir, broker_settings=broker_settings)


def _built(path: Path, **options: Any) -> Pipeline:
    """``_load`` with plugins imported; PipelineError with every error when it refuses."""
    pipeline, problems = _load(path, import_plugins=True, **options)
    if pipeline is None:
        raise PipelineError([p for p in problems if not p.warning])
    return pipeline


def load_for_test(path: str | Path, datadir: str | Path) -> Pipeline:
    """The pipeline's App on the in-memory broker (``memory://``) with in-memory table
    stores under ``datadir``, for ``streamctl test``: the file's broker, broker settings,
    data dir and processing guarantee are left out (the in-memory broker is
    at-least-once and takes no client settings). Raises PipelineError as load_pipeline."""

    def in_memory(spec: PipelineSpec) -> None:
        spec.broker_settings = {}
        spec.settings.pop("processing_guarantee", None)
        spec.settings["table_store"] = "memory://"

    return _built(
        Path(path), broker="memory://", datadir=datadir, broker_settings=None, adjust=in_memory
    )


def check_pipeline(
    path: str | Path,
    *,
    broker: str | None = None,
    broker_settings: dict[str, Any] | None = None,
) -> list[Problem]:
    """Every problem and warning ``path`` has, sorted by file and line ([] when clean).

    Nothing is run: plugin modules are looked at, never imported. An empty list of
    errors means ``load_pipeline`` will not refuse the file.
    """
    _, problems = _load(
        Path(path),
        broker=broker,
        datadir=None,
        broker_settings=broker_settings,
        import_plugins=False,
    )
    return problems
