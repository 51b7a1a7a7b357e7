"""Plugin agents for pipelines/quickstart.yaml (a plugin is an ordinary async agent)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any


async def large_orders(stream: Any) -> AsyncIterator[dict[str, Any]]:
    """Forward orders whose total (quantity x price) is at least 100, with the total added."""
    async for order in stream:
        total = round(order["quantity"] * order["price"], 2)
        if total >= 100:
            yield {**order, "total": total}
