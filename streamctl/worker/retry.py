"""Broker-outage retry: one backoff loop for a broker that is not there (yet, or any more).

Three callers. A starting worker creates its topics and retries an unreachable broker for
up to ``broker_start_timeout`` seconds (or until it is stopped). A running worker whose
commit met an absent broker waits for it for up to ``broker_wait_timeout`` seconds and
carries on where it was: a flush that failed is flushed again (records stay queued, the
changelog is not queued twice), offsets not committed are committed then. Past the
timeout the worker gives up with ``BrokerUnavailable``; nothing was committed that
should not be, so a restart replays the batch. A rebalance listener whose table recovery
met a broker that is not ready again (right after an outage) waits the same way, blocking
inside ``poll`` (:func:`until_broker_answers_blocking`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TypeVar

from streamctl.transport.exceptions import BrokerUnavailable

log = logging.getLogger("streamctl.worker")

T = TypeVar("T")

#: the first pause between attempts, in seconds; it doubles up to ``max_delay``
FIRST_DELAY = 0.5


def _never() -> bool:
    return False


class _Attempts:
    """One wait's bookkeeping: when to give up, how long to pause, what to log."""

    def __init__(
        self,
        timeout: float,
        setting: str,
        max_delay: float,
        failed: BrokerUnavailable | None,
        stopping: Callable[[], bool],
    ) -> None:
        self.began = time.monotonic()
        self.deadline = self.began + timeout
        self.timeout, self.setting, self.max_delay = timeout, setting, max_delay
        self.failed, self.stopping = failed, stopping
        self.delay = FIRST_DELAY
        #: the error the last attempt met (None: the next attempt comes at once)
        self.error = failed
        if failed is not None:
            log.warning("%s; waiting for the broker (up to %.0fs)", failed, timeout)

    def pause(self) -> float:
        """Seconds to wait before the next attempt (0: none); BrokerUnavailable when the
        wait is over (its timeout passed, or ``stopping()``)."""
        error = self.error
        if error is None:
            return 0.0
        left = self.deadline - time.monotonic()
        if left <= 0 or self.stopping():
            raise BrokerUnavailable(
                f"{error}; gave up after {time.monotonic() - self.began:.1f}s "
                f"({self.setting}: {self.timeout:g}s)"
            ) from None
        pause = min(self.delay, left)
        if self.failed is None:
            log.warning("%s; retrying in %.1fs", error, pause)
        elif error is not self.failed:
            log.warning("%s; still waiting", error)
        self.delay = min(self.delay * 2, self.max_delay)
        return pause

    def attempt(self, call: Callable[[], T]) -> list[T]:
        """``[call()]``, or ``[]`` when it raised BrokerUnavailable (noted for the next pause)."""
        try:
            result = call()
        except BrokerUnavailable as exc:
            self.error = exc
            return []
        if self.failed is not None:
            log.info("the broker is back; carrying on")
        return [result]


async def until_broker_answers(
    call: Callable[[], T],
    *,
    timeout: float,
    setting: str,
    max_delay: float,
    failed: BrokerUnavailable | None = None,
    stopping: Callable[[], bool] = _never,
) -> T:
    """``call()`` until it does not raise BrokerUnavailable; its result.

    ``failed``: the error a first attempt already met (a running worker: the next
    attempt comes after a pause, and the wait is announced once); None (start-up):
    the first attempt is made now. Gives up ``timeout`` seconds from now, or at once
    when ``stopping()`` says so, naming ``setting`` (the timeout's setting).
    """
    attempts = _Attempts(timeout, setting, max_delay, failed, stopping)
    while True:
        pause = attempts.pause()
        if pause:
            await asyncio.sleep(pause)
        for result in attempts.attempt(call):
            return result


def until_broker_answers_blocking(
    call: Callable[[], T],
    *,
    timeout: float,
    setting: str,
    max_delay: float,
    failed: BrokerUnavailable,
) -> T:
    """:func:`until_broker_answers` for a thread that may block: a rebalance listener,
    which runs inside ``poll`` (on Kafka on a helper thread; the client keeps
    heartbeating meanwhile, so the group keeps the member while it waits)."""
    attempts = _Attempts(timeout, setting, max_delay, failed, _never)
    while True:
        pause = attempts.pause()
        if pause:
            time.sleep(pause)
        for result in attempts.attempt(call):
            return result
