"""Rebalance: what the worker does when the group moves partitions (called from ``poll``).

On revoke, what was processed since the last commit is committed before the partitions
go; events held back by ``take`` in a revoked partition are dropped, uncommitted, and
processed by the partition's next owner; then the tables' stores of partitions this
worker no longer has are closed. On assign, newly assigned table partitions are
rebuilt from their changelogs before their first event; a broker that is not ready for
that yet (just back from an outage) is waited for, up to ``broker_wait_timeout``.

Standby replicas (``table_standby_replicas: N``, Faust's and Kafka Streams'
``num.standby.replicas``): on revoke, the stores of partitions that go are kept as
standbys; after each assignment the worker reads the group's membership from the
broker (``Transport.describe_group``: every member with the partitions it was just
assigned) and chooses its standbys with :func:`standby_partitions`, so every worker
of the group, seeing the same membership, makes the same choice (as Faust's assignor
hands out standbys with the assignment, but without replacing Kafka's assignor). A
standby it is then assigned is recovered from the standby store's offset.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from streamctl.tables.manager import TableManager
from streamctl.transport.base import (
    Consumer,
    GroupInfo,
    GroupMember,
    RebalanceListener,
    TopicPartition,
    Transport,
)
from streamctl.transport.exceptions import BrokerUnavailable, TransportError
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
        *,
        transport: Transport | None = None,
        group_id: str | None = None,
    ) -> None:
        self.consumer = consumer
        self.committer = committer
        self.dispatcher = dispatcher
        self.tables = tables
        #: called once the tables of newly assigned partitions are rebuilt (a summary line)
        self.after_assign = after_assign
        #: where the group's membership is read to choose standbys (None: no standbys)
        self.transport = transport
        self.group_id = group_id
        #: the group had other members at the last look: revoked partitions are kept as
        #: standbys (a worker alone, stopping, has nobody to keep them for)
        self._peers = False

    def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info("assigned %s", describe(assigned))
        partitions = {tp.partition for tp in assigned}
        try:
            self.tables.assign(partitions)
        except BrokerUnavailable as exc:
            # the group is back before every client is: right after an outage the
            # recovery's admin client or changelog reader may still be in its reconnect
            # backoff ("not ready"). Wait for the broker as a commit does (up to
            # broker_wait_timeout), then recover again; the first event of these
            # partitions comes only after their tables are rebuilt.
            self.committer.wait_for_broker_blocking(exc, lambda: self.tables.assign(partitions))
        if self.tables.standby_replicas > 0 and self.tables.partitioned:
            self._choose_standbys()
        if self.after_assign is not None:
            self.after_assign()

    def _choose_standbys(self) -> None:
        if self.transport is None or self.group_id is None:
            return
        try:
            info = self.transport.describe_group(self.group_id)
        except TransportError as exc:  # the standbys stay as they are; correctness does not
            log.warning("standby partitions not updated: %s", exc)  # depend on them
            return
        self._peers = len(info.members) > 1
        chosen = standby_partitions(info, self.consumer.assignment(), self.tables.standby_replicas)
        if chosen is None:  # the broker's view is of another generation: keep them as they are
            log.debug("standby partitions not updated: this member is not in %s", info)
            return
        self.tables.set_standbys(chosen)

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
        self.tables.revoke(remaining, keep_standbys=self._peers)


def describe(tps: set[TopicPartition]) -> str:
    """``sales[0,1] sales-repartition[0,1]`` for a log line."""
    by_topic: dict[str, list[int]] = {}
    for tp in tps:
        by_topic.setdefault(tp.topic, []).append(tp.partition)
    return (
        " ".join(f"{t}[{','.join(map(str, sorted(ps)))}]" for t, ps in sorted(by_topic.items()))
        or "nothing"
    )


def standby_partitions(
    group: GroupInfo, mine: Iterable[TopicPartition], replicas: int
) -> set[int] | None:
    """The partition numbers this member (the one assigned ``mine``) keeps standbys of.

    Each partition number owned by some member (holding that partition of any topic:
    tables are co-partitioned with their sources) gets ``replicas`` standby holders: the
    members that follow its first owner in the ring of members sorted by id, skipping
    every owner of it, so a standby is never on a worker that owns the partition (with
    fewer other members, fewer holders). A member is found by its assignment: one assigned
    nothing, or in a group whose broker does not report assignments (the embedded one),
    keeps none; None when members report assignments but none is ``mine`` (the view is
    of another generation of the group).
    """
    own = frozenset(mine)
    ring: list[GroupMember] = sorted(group.members, key=lambda m: m.member_id)
    me = next((i for i, m in enumerate(ring) if own and m.partitions == own), None)
    if me is None and own and any(m.partitions for m in ring):
        return None
    if me is None or replicas <= 0:
        return set()
    owners: dict[int, set[int]] = {}
    for i, member in enumerate(ring):
        for tp in member.partitions:
            owners.setdefault(tp.partition, set()).add(i)
    chosen: set[int] = set()
    for partition, holders in owners.items():
        if me in holders:
            continue
        first = min(holders)
        others = [(first + k) % len(ring) for k in range(1, len(ring))]
        if me in [i for i in others if i not in holders][:replicas]:
            chosen.add(partition)
    return chosen
