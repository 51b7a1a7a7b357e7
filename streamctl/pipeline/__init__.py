"""Pipelines: YAML files that declare an App (topics, agents, tables, models)."""

from streamctl.pipeline.errors import PipelineError, Problem
from streamctl.pipeline.loader import Pipeline, check_pipeline, load_pipeline

__all__ = ["Pipeline", "PipelineError", "Problem", "check_pipeline", "load_pipeline"]
