"""Built-in agents that pipeline files can name with ``use:``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

log = logging.getLogger("streamctl.agents")


async def forward(stream: Any) -> AsyncIterator[Any]:
    """Forward every value unchanged to the agent's sinks."""
    async for value in stream:
        yield value


async def log_values(stream: Any) -> AsyncIterator[Any]:
    """Log every event (topic, partition, offset, key, value) and forward it."""
    async for event in stream.events():
        m = event.message
        log.info(
            "%s[%d]@%d key=%r value=%r", m.topic, m.partition, m.offset, event.key, event.value
        )
        yield event.value
