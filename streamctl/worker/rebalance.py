"""Rebalance: what the worker does when the group moves partitions (called from ``poll``).

On revoke, what was processed since the last commit is committed before the partitions
go; events held back by ``take`` in a revoked partition are dropped, uncommitted, and
processed by the partition's next owner; then the tables' stores of partitions this
worker no longer has are closed. On assign, newly assigned table partitions are
rebuilt from their changelogs before their first event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from streamctl.tables.manager import TableManager
from streamctl.transport.base import Consumer, RebalanceListener, TopicPartition
from streamctl.worker.committer import Committer
from streamctl.worker.dispatch import Dispatcher

log = logging.getLogger("streamctl.worker")


class Rebalance(RebalanceListener):
    """The worker's rebalance listener."""

    def __init__(
        self,
        consumer: Consumer,
        committer: Committer,
        dispatcher: Dispatcher,
        tables: TableManager,
        after_assign: Callable[[], None] | None = None,
    ) -> None:
        self.consumer = consumer
        self.committer = committer
        self.dispatcher = dispatcher
        self.tables = tables
        #: called once the tables of newly assigned partitions are rebuilt (a summary line)
        self.after_assign = after_assign

    def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info("assigned %s", describe(assigned))
        self.tables.assign(tp.partition for tp in assigned)
        if self.after_assign is not None:
            self.after_assign()

    def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        # Runs inside poll (on Kafka on a helper thread while the loop thread waits in
        # poll, so nothing else touches the worker's state). Batches processed since the
        # last commit (commit_interval) are committed now, before the partitions go.
        log.info("revoked %s", describe(revoked))
        if self.committer.pending:
            self.committer.commit_now()
        dropped = self.dispatcher.drop_held(revoked)
        if dropped:
            log.info(
                "%d event(s) held by take() in revoked partitions left to their next owner "
                "(their offsets were not committed)",
                dropped,
            )
        remaining = {tp.partition for tp in self.consumer.assignment() - revoked}
        self.committer.forget_partitions(revoked)
        self.tables.revoke(remaining)


def describe(tps: set[TopicPartition]) -> str:
    """``sales[0,1] sales-repartition[0,1]`` for a log line."""
    by_topic: dict[str, list[int]] = {}
    for tp in tps:
        by_topic.setdefault(tp.topic, []).append(tp.partition)
    return (
        " ".join(f"{t}[{','.join(map(str, sorted(ps)))}]" for t, ps in sorted(by_topic.items()))
        or "nothing"
    )
