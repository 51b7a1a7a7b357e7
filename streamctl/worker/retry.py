"""Broker-outage retry: one backoff loop for a broker that is not there (yet, or any more).

Two callers. A starting worker creates its topics and retries an unreachable broker for
up to ``broker_start_timeout`` seconds (or until it is stopped). A running worker whose
commit met an absent broker waits for it for up to ``broker_wait_timeout`` seconds and
carries on where it was: a flush that failed is flushed again (records stay queued, the
changelog is not queued twice), offsets not committed are committed then. Past the
timeout the worker gives up with ``BrokerUnavailable``; nothing was committed that
should not be, so a restart replays the batch.
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
    began = time.monotonic()
    deadline = began + timeout
    delay = FIRST_DELAY
    error = failed
    if failed is not None:
        log.warning("%s; waiting for the broker (up to %.0fs)", failed, timeout)
    while True:
        if error is not None:
            left = deadline - time.monotonic()
            if left <= 0 or stopping():
                raise BrokerUnavailable(
                    f"{error}; gave up after {time.monotonic() - began:.1f}s "
                    f"({setting}: {timeout:g}s)"
                ) from None
            pause = min(delay, left)
            if failed is None:
                log.warning("%s; retrying in %.1fs", error, pause)
            elif error is not failed:
                log.warning("%s; still waiting", error)
            await asyncio.sleep(pause)
            delay = min(delay * 2, max_delay)
        try:
            result = call()
        except BrokerUnavailable as exc:
            error = exc
            continue
        if failed is not None:
            log.info("the broker is back; carrying on")
        return result
