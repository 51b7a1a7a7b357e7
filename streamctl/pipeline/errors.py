"""Pipeline errors: every problem carries file:line:column."""

from __future__ import annotations

from dataclasses import dataclass

from streamctl.exceptions import ConfigurationError


@dataclass(frozen=True)
class Problem:
    """A problem at ``file:line:column`` (1-based); line 0 when ``file`` is a command-line
    option, not a file."""

    file: str
    line: int
    column: int
    message: str
    #: a warning does not stop ``run`` and does not fail ``validate``
    warning: bool = False

    def __str__(self) -> str:
        kind = "warning: " if self.warning else ""
        if self.line == 0:  # not in a file: a command-line option (``file`` names it)
            return f"{self.file}: {kind}{self.message}"
        return f"{self.file}:{self.line}:{self.column}: {kind}{self.message}"

    def sort_key(self) -> tuple[str, int, int]:
        """Order by file, line and column (a stable sort keeps the order found at a tie)."""
        return (self.file, self.line, self.column)


class PipelineError(ConfigurationError):
    """A pipeline file has one or more problems; nothing was run."""

    def __init__(self, problems: list[Problem]) -> None:
        problems = sorted(problems, key=Problem.sort_key)
        self.problems = problems
        first = str(problems[0]) if problems else "invalid pipeline"
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        super().__init__(first + more)
