"""Run a streamctl RebalanceListener from kafka-python's rebalance callbacks.

kafka-python 3 calls rebalance listeners on its IO thread, where a blocking
consumer call (commit, seek, committed, end_offsets) raises and any slow work
stalls heartbeats. The bridge is an async listener that runs the streamctl
listener on a helper thread and awaits it: the IO loop keeps heartbeating, the
listener may use the consumer freely, and the caller of ``poll`` stays blocked
until it returns, so from the caller's view it ran inside ``poll``, before the
first record of a newly assigned partition.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from kafka import AsyncConsumerRebalanceListener, KafkaConsumer
from kafka.future import Future

from streamctl.transport.base import RebalanceListener, TopicPartition


def _tps(tps: Iterable[Any]) -> set[TopicPartition]:
    return {TopicPartition(tp.topic, tp.partition) for tp in tps}


class ListenerBridge(AsyncConsumerRebalanceListener):
    def __init__(self, listener: RebalanceListener, consumer: KafkaConsumer) -> None:
        self._listener = listener
        self._consumer = consumer

    async def on_partitions_revoked(self, revoked: Any) -> None:
        if revoked:
            await self._off_loop(self._listener.on_partitions_revoked, _tps(revoked))

    async def on_partitions_lost(self, lost: Any) -> None:
        # Forced eviction: streamctl's listener has one hook for "partitions go".
        if lost:
            await self._off_loop(self._listener.on_partitions_revoked, _tps(lost))

    async def on_partitions_assigned(self, assigned: Any) -> None:
        await self._off_loop(self._listener.on_partitions_assigned, _tps(assigned))

    async def _off_loop(
        self, fn: Callable[[set[TopicPartition]], None], arg: set[TopicPartition]
    ) -> None:
        net = self._consumer._net  # kafka-python's IO loop; no public handle exists
        done: Future = Future()

        def work() -> None:
            try:
                fn(arg)
            except BaseException as exc:  # handed back to the IO loop, then to poll()
                error = exc

                async def fail() -> None:
                    done.failure(error)

                net.call_soon_threadsafe(fail)
            else:

                async def succeed() -> None:
                    done.success(None)

                net.call_soon_threadsafe(succeed)

        threading.Thread(target=work, name="streamctl-rebalance", daemon=True).start()
        await done
