"""Consumer of the in-memory broker: positions per partition, group membership, rebalances."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence

from streamctl.transport.base import Consumer, Message, RebalanceListener, TopicPartition
from streamctl.transport.exceptions import CommitFailed, TransportError
from streamctl.transport.memory.broker import MemoryBroker
from streamctl.transport.memory.groups import Group


class MemoryConsumer(Consumer):
    """A consumer of ``group_id`` (None: no group, no commits, no ``subscribe``).

    ``assign`` reads the given partitions, starting at the group's committed
    offsets (else the beginning). ``subscribe`` joins the group, which shares
    the topics' partitions among its members (see
    :mod:`streamctl.transport.memory.groups`); each ``poll`` first settles this
    member's share, telling the listener what is revoked and what is assigned.
    A member's commit of a partition it no longer holds raises CommitFailed.
    """

    def __init__(self, broker: MemoryBroker, group_id: str | None) -> None:
        self._broker = broker
        self.group_id = group_id
        self._group: Group | None = None if group_id is None else broker.group(group_id)
        self._positions: dict[TopicPartition, int] = {}
        self._member: int | None = None
        self._generation = 0
        self._listener: RebalanceListener | None = None
        self._told = False  # the listener heard of this membership's first assignment
        self._rr = 0

    # -- assignment ----------------------------------------------------------------
    def assign(self, partitions: Iterable[TopicPartition]) -> None:
        tps = list(partitions)
        if self._member is not None:
            raise TransportError("assign: this consumer is subscribed; close it and use another")
        with self._broker.changed:
            for tp in tps:
                self._broker.log(tp)
            self._positions = {tp: self._start(tp) for tp in tps}

    def subscribe(self, topics: Sequence[str], listener: RebalanceListener | None = None) -> None:
        if self._group is None:
            raise TransportError("subscribe needs a consumer group (group_id is None)")
        broker = self._broker
        with broker.changed:
            tps = [
                TopicPartition(topic, p)
                for topic in topics
                for p in range(broker.spec(topic).partitions)
            ]
            self._leave()
            self._member = self._group.join(tps)
            broker.changed.notify_all()  # members waiting in poll settle their share
        self._listener = listener
        self._told = False

    def assignment(self) -> set[TopicPartition]:
        return set(self._positions)

    def _start(self, tp: TopicPartition) -> int:
        committed = self._group.offsets.get(tp) if self._group is not None else None
        return 0 if committed is None else committed

    def _settle(self) -> None:
        """Give up what the group moved elsewhere, then take what is due and free."""
        group, member, listener = self._group, self._member, self._listener
        assert group is not None and member is not None
        with self._broker.changed:
            self._generation = group.generation
            revoked = group.revoked(member, set(self._positions))
        if revoked:
            if listener is not None:  # it may still commit them: they are ours until released
                listener.on_partitions_revoked(set(revoked))
            with self._broker.changed:
                group.release(member, revoked)
                for tp in revoked:
                    del self._positions[tp]
                self._broker.changed.notify_all()
        with self._broker.changed:
            assigned = group.take(member, set(self._positions))
            for tp in assigned:
                self._positions[tp] = self._start(tp)
        if listener is not None and (assigned or not self._told):
            self._told = True
            listener.on_partitions_assigned(set(assigned))

    # -- reading ---------------------------------------------------------------------
    def poll(self, max_records: int = 1000, timeout: float = 0.0) -> list[Message]:
        if self._member is not None:
            self._settle()
        deadline = time.monotonic() + timeout
        changed = self._broker.changed
        with changed:
            while True:
                out = self._fetch(max_records)
                left = deadline - time.monotonic()
                if out or left <= 0 or self._unsettled():
                    return out
                changed.wait(left)

    def _unsettled(self) -> bool:
        """This consumer is a member and its group changed since it last settled its share."""
        group = self._group
        return (
            self._member is not None and group is not None and self._generation != group.generation
        )

    def _fetch(self, max_records: int) -> list[Message]:
        logs = self._broker.logs
        ready = [tp for tp, pos in self._positions.items() if pos < len(logs[tp])]
        if not ready:
            return []
        # rotate the starting partition so one busy partition cannot starve the others
        self._rr = (self._rr + 1) % len(ready)
        out: list[Message] = []
        for tp in ready[self._rr :] + ready[: self._rr]:
            room = max_records - len(out)
            if room <= 0:
                break
            pos = self._positions[tp]
            chunk = logs[tp][pos : pos + room]
            out += chunk
            self._positions[tp] = pos + len(chunk)
        return out

    def seek(self, tp: TopicPartition, offset: int) -> None:
        if tp not in self._positions:
            raise TransportError(f"cannot seek {tp.topic}[{tp.partition}]: not assigned")
        self._positions[tp] = offset

    def position(self, tp: TopicPartition) -> int:
        pos = self._positions.get(tp)
        if pos is None:
            raise TransportError(f"no position for {tp.topic}[{tp.partition}]: not assigned")
        return pos

    # -- offsets ---------------------------------------------------------------------
    def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        group = self._group
        if group is None:
            raise TransportError("cannot commit offsets without a consumer group")
        if not offsets:
            return
        with self._broker.changed:
            for tp in offsets:
                self._broker.log(tp)
                if self._member is not None and not group.holds(self._member, tp):
                    raise CommitFailed(
                        f"commit: {tp.topic}[{tp.partition}] is no longer this member's in "
                        f"group {group.id!r}: the group rebalanced"
                    )
            group.offsets.update(offsets)

    def committed(self, tp: TopicPartition) -> int | None:
        if self._group is None:
            return None
        with self._broker.changed:
            self._broker.log(tp)
            return self._group.offsets.get(tp)

    def end_offsets(self, tps: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        with self._broker.changed:
            return {tp: len(self._broker.log(tp)) for tp in tps}

    def beginning_offsets(self, tps: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        wanted = list(tps)
        with self._broker.changed:
            for tp in wanted:
                self._broker.log(tp)  # raises for an unknown topic or partition
        return dict.fromkeys(wanted, 0)

    def _leave(self) -> None:
        if self._member is not None and self._group is not None:
            self._group.leave(self._member)
            self._broker.changed.notify_all()
        self._member = None
        self._positions = {}

    def close(self) -> None:
        """Leave the group (its partitions go to the other members at once)."""
        with self._broker.changed:
            self._leave()
