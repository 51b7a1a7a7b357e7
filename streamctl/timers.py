"""Timers: ``@app.timer(interval)`` functions the worker calls periodically."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from streamctl.context import Context


class Timer:
    """Calls ``fun`` every ``interval`` seconds while a worker runs (first call after one interval)."""

    def __init__(
        self,
        context: Context,
        fun: Callable[..., Any],
        interval: float,
        *,
        on_leader: bool = False,
    ) -> None:
        if isinstance(interval, timedelta):
            interval = interval.total_seconds()
        if interval <= 0:
            raise ValueError("timer interval must be positive")
        self.context = context
        self.fun = fun
        self.interval = float(interval)
        self.on_leader = on_leader
        self.name = getattr(fun, "__qualname__", repr(fun))
        self._takes_app = len(inspect.signature(fun).parameters) >= 1

    @property
    def app(self) -> Any:
        """The App that declared this timer; a timer function taking an argument gets it."""
        return self.context.app

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time() + self.interval
        while True:
            await asyncio.sleep(max(0.0, next_at - loop.time()))
            next_at += self.interval
            out = self.fun(self.context.app) if self._takes_app else self.fun()
            if inspect.isawaitable(out):
                await out

    def __call__(self, *args: Any) -> Any:
        return self.fun(*args)


class Task(Timer):
    """``@app.task``: calls ``fun`` once, as soon as a worker has started its agents."""

    def __init__(self, context: Context, fun: Callable[..., Any], *, on_leader: bool = False):
        super().__init__(context, fun, 1.0, on_leader=on_leader)

    async def run(self) -> None:
        out = self.fun(self.context.app) if self._takes_app else self.fun()
        if inspect.isawaitable(out):
            await out
        await asyncio.get_running_loop().create_future()  # done: idle until the worker stops
