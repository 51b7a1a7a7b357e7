"""What a table needs from its app and its topics (Protocols, so tables never import App)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol


class TopicLike(Protocol):
    """What a table needs from a topic object."""

    @property
    def name(self) -> str: ...

    @property
    def partitions(self) -> int | None: ...


class AppConfLike(Protocol):
    @property
    def datadir(self) -> Path: ...


class AppLike(Protocol):
    """What a table needs from the App (``conf.table_store``, ``conf.topic_partitions``
    and ``conf.reads_last_stable_offset`` are optional)."""

    @property
    def id(self) -> str: ...

    @property
    def conf(self) -> AppConfLike: ...

    def topic(self, name: str, **kwargs: Any) -> TopicLike: ...
