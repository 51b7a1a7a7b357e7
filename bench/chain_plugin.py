"""The plugin agent of bench scenario xp: bench/chain.py's step chain, written in Python."""

from __future__ import annotations

from typing import Any


def keep(order: dict[str, Any]) -> bool:
    return bool(order["ok"] and order["amount"] >= 10 and order["kind"] == "order")


def tier(order: dict[str, Any]) -> str:
    amount = order["amount"]
    return "gold" if amount >= 75 else "silver" if amount >= 40 else "bronze"


async def net_per_tier(stream: Any) -> None:
    """Sum the net amount of the kept orders per tier (regrouped by the tier)."""
    table = stream.app.tables["net_per_tier"]
    async for key, order in stream.filter(keep).group_by(tier, name="tier").items():
        table[key] += round(order["amount"] * 0.8, 2)
