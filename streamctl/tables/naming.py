"""Names of things derived from a table: its changelog topic and its store files.

Every other module asks these functions; nothing else builds such a name.
"""

from __future__ import annotations

import re
from pathlib import Path

from streamctl.exceptions import ConfigurationError

_SAFE = re.compile(r"^[A-Za-z0-9._-]+$")


def is_safe_name(value: str) -> bool:
    """Whether ``value`` can name a store folder and a topic: letters, digits, ``._-``."""
    return bool(_SAFE.match(value)) and value not in (".", "..")


def _check(kind: str, value: str) -> str:
    if not is_safe_name(value):
        raise ConfigurationError(f"{kind} {value!r} may only use letters, digits, '.', '_' and '-'")
    return value


def changelog_topic_name(app_id: str, table: str) -> str:
    """The compacted topic that records every change of ``table``: ``{app_id}-{table}-changelog``."""
    return f"{app_id}-{table}-changelog"


def store_path(datadir: Path, app_id: str, table: str, partition: int) -> Path:
    """The file holding one partition of a table: ``{datadir}/stores/{app_id}/{table}/{partition}.sqlite3``.

    One file per partition, so a partition can be rebuilt, moved or dropped alone.
    Names are checked so that no table can write outside its directory.
    """
    if partition < 0:
        raise ValueError(f"partition must be >= 0, not {partition}")
    return (
        Path(datadir)
        / "stores"
        / _check("app id", app_id)
        / _check("table name", table)
        / f"{partition}.sqlite3"
    )
