"""App settings: one place for every knob, with their defaults and environment overrides."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamctl.exceptions import ConfigurationError

GUARANTEES = ("at_least_once", "exactly_once")


def default_datadir() -> Path:
    """``$STREAMCTL_DATADIR`` or ``./.streamctl``: shared by every app run from this directory,
    so that apps on the embedded broker see each other's topics."""
    return Path(os.environ.get("STREAMCTL_DATADIR", ".streamctl"))


@dataclass
class Settings:
    id: str
    broker: str = "local://"
    datadir: Path = field(default_factory=default_datadir)
    table_store: str = "sqlite://"
    topic_partitions: int = 1
    processing_guarantee: str = "at_least_once"
    #: most records handled per poll, i.e. per batch and per commit
    max_poll_records: int = 5000
    #: how long an idle poll waits for new records, in seconds
    poll_timeout: float = 0.2
    table_standby_replicas: int = 0
    broker_settings: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.id or not isinstance(self.id, str):
            raise ConfigurationError("an app needs a non-empty string id")
        self.datadir = Path(self.datadir)
        if self.processing_guarantee not in GUARANTEES:
            raise ConfigurationError(
                f"processing_guarantee must be one of {', '.join(GUARANTEES)}, "
                f"not {self.processing_guarantee!r}"
            )
        if self.max_poll_records < 1:
            raise ConfigurationError("max_poll_records must be at least 1")

    @property
    def appdir(self) -> Path:
        """Where this app keeps its own state (table stores) inside the data dir."""
        return self.datadir / self.id
