"""Pipeline errors: every problem carries file:line:column."""

from __future__ import annotations

from dataclasses import dataclass

from streamctl.exceptions import ConfigurationError


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class PipelineError(ConfigurationError):
    """A pipeline file has one or more problems; nothing was run."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        first = str(problems[0]) if problems else "invalid pipeline"
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        super().__init__(first + more)
