"""Built-in agents that pipeline files can name with ``use:``."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

log = logging.getLogger("streamctl.agents")


async def forward(stream: Any) -> AsyncIterator[Any]:
    """Forward every value unchanged to the agent's sinks."""
    async for value in stream:
        yield value


def as_json(obj: Any) -> str:
    """``obj`` as one line of JSON: records as their fields (without Faust metadata),
    sets as sorted lists, bytes as UTF-8 text, anything else JSON cannot say as its str."""
    return json.dumps(plain(obj), ensure_ascii=False, default=str)


def plain(obj: Any) -> Any:
    """``obj`` as JSON-like data: records as their fields (no Faust metadata), sets as
    sorted lists, tuples as lists, bytes as UTF-8 text; anything else unchanged."""
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items() if k != "__faust"}
    if isinstance(obj, (list, tuple)):
        return [plain(x) for x in obj]
    if isinstance(obj, (set, frozenset)):
        return sorted((plain(x) for x in obj), key=lambda x: json.dumps(x, default=str))
    if isinstance(obj, bytes):
        return obj.decode("utf-8", "replace")
    rep = getattr(obj, "to_representation", None)
    if rep is not None:
        return plain(rep())
    return obj


async def log_values(stream: Any) -> AsyncIterator[Any]:
    """Log every event as ``topic[partition]@offset key=<JSON> value=<JSON>`` and forward it."""
    async for event in stream.events():
        m = event[2]
        log.info(
            "%s[%d]@%d key=%s value=%s",
            m.topic,
            m.partition,
            m.offset,
            as_json(event.key),
            as_json(event.value),
        )
        yield event.value
