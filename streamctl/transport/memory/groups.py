"""Consumer groups of the in-memory broker: committed offsets, members, who holds what.

Unlike the embedded broker, the in-memory one balances a group across its
members, as Kafka does, so tests can exercise rebalancing in one process:

- partitions are assigned per topic with Kafka's range assignor, over the
  members subscribed to the topic, in the order they joined;
- the assignment is recomputed whenever a member joins or leaves;
- hand-over is cooperative (Kafka's incremental protocol): a partition that moves
  is first released by its old owner, in that member's next ``poll`` (after its
  listener heard it revoked) or ``close``, and only then taken by its new owner,
  whose listener hears of it before its first record. A member that stops
  polling without closing keeps its partitions (there is no session timeout).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from streamctl.transport.base import TopicPartition


class Group:
    """One consumer group's state. Callers hold the broker's lock."""

    def __init__(self, group_id: str) -> None:
        self.id = group_id
        #: committed offsets (of the next record to read)
        self.offsets: dict[TopicPartition, int] = {}
        #: which member holds a partition now
        self.owner: dict[TopicPartition, int] = {}
        #: bumped by every join and leave: members compare it to know when to sync
        self.generation = 0
        self._subscriptions: dict[int, dict[str, list[TopicPartition]]] = {}
        self._target: dict[int, frozenset[TopicPartition]] = {}
        self._ids = itertools.count(1)

    def members(self) -> list[int]:
        """The ids of the members, in the order they joined."""
        return sorted(self._subscriptions)

    def join(self, partitions: Iterable[TopicPartition]) -> int:
        """Add a member subscribed to ``partitions`` (every partition of its topics);
        returns its id."""
        member = next(self._ids)
        by_topic: dict[str, list[TopicPartition]] = {}
        for tp in partitions:
            by_topic.setdefault(tp.topic, []).append(tp)
        self._subscriptions[member] = by_topic
        self._assign()
        return member

    def leave(self, member: int) -> None:
        """Remove a member; the partitions it held are free for the others at once."""
        self._subscriptions.pop(member, None)
        for tp in [tp for tp, m in self.owner.items() if m == member]:
            del self.owner[tp]
        self._assign()

    def _assign(self) -> None:
        """Kafka's range assignor, topic by topic."""
        self.generation += 1
        target: dict[int, set[TopicPartition]] = {m: set() for m in self._subscriptions}
        topics: dict[str, list[TopicPartition]] = {}
        for subscription in self._subscriptions.values():
            for topic, tps in subscription.items():
                topics.setdefault(topic, sorted(tps))
        for topic, tps in topics.items():
            members = [m for m in self.members() if topic in self._subscriptions[m]]
            per, extra = divmod(len(tps), len(members))
            start = 0
            for i, member in enumerate(members):
                count = per + (1 if i < extra else 0)
                target[member].update(tps[start : start + count])
                start += count
        self._target = {m: frozenset(tps) for m, tps in target.items()}

    def revoked(self, member: int, held: set[TopicPartition]) -> set[TopicPartition]:
        """What ``member``, holding ``held``, must give up."""
        return held - self._target.get(member, frozenset())

    def release(self, member: int, tps: Iterable[TopicPartition]) -> None:
        """``member`` no longer holds ``tps``."""
        for tp in tps:
            if self.owner.get(tp) == member:
                del self.owner[tp]

    def take(self, member: int, held: set[TopicPartition]) -> set[TopicPartition]:
        """Give ``member``, holding ``held``, the partitions it is due that are free now;
        returns them."""
        free = {
            tp
            for tp in self._target.get(member, frozenset()) - held
            if self.owner.get(tp, member) == member
        }
        for tp in free:
            self.owner[tp] = member
        return free

    def holds(self, member: int, tp: TopicPartition) -> bool:
        return self.owner.get(tp) == member
