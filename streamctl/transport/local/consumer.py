"""Consumer of the embedded broker: positions per partition, batch rows read and cached."""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from streamctl.transport.base import Consumer, Message, RebalanceListener, TopicPartition
from streamctl.transport.exceptions import TransportError
from streamctl.transport.local import groups
from streamctl.transport.local.integrity import read_batch
from streamctl.transport.local.log import log_table

if TYPE_CHECKING:
    from streamctl.transport.local.transport import LocalTransport


class LocalConsumer(Consumer):
    """A consumer of ``group_id`` (None: no group, no commits) on the embedded broker.

    ``subscribe`` makes it the group's only member and assigns it every
    partition of the topics; the listener hears of the assignment in the first
    ``poll``. Partitions are read round-robin, so one busy partition cannot
    starve the others.
    """

    def __init__(self, transport: LocalTransport, group_id: str | None) -> None:
        self.transport = transport
        self.group_id = group_id
        self._positions: dict[TopicPartition, int] = {}
        self._ids: dict[str, int] = {}
        self._listener: RebalanceListener | None = None
        self._pending_assign: set[TopicPartition] | None = None
        self._member = False
        self._rr = 0
        self._cache: dict[TopicPartition, Any] = {}  # the last, partly read batch per partition

    # -- assignment ----------------------------------------------------------------
    def assign(self, partitions: Iterable[TopicPartition]) -> None:
        tps = list(partitions)
        for tp in tps:
            tid, parts = self.transport.topic_info(tp.topic)
            if not 0 <= tp.partition < parts:
                raise TransportError(f"topic {tp.topic!r} has no partition {tp.partition}")
            self._ids[tp.topic] = tid
        self._positions = {tp: self._initial_position(tp) for tp in tps}

    def subscribe(self, topics: Sequence[str], listener: RebalanceListener | None = None) -> None:
        if self.group_id is not None:
            groups.join(self.transport.db, self.group_id, self.transport.datadir)
            self._member = True
        tps: list[TopicPartition] = []
        for name in topics:
            _, parts = self.transport.topic_info(name)
            tps.extend(TopicPartition(name, p) for p in range(parts))
        self.assign(tps)
        self._listener = listener
        self._pending_assign = set(tps)

    def assignment(self) -> set[TopicPartition]:
        return set(self._positions)

    def _initial_position(self, tp: TopicPartition) -> int:
        committed = self.committed(tp)
        if committed is not None:
            return committed
        return self.beginning_offsets([tp])[tp]

    # -- reading ---------------------------------------------------------------------
    def poll(self, max_records: int = 1000, timeout: float = 0.0) -> list[Message]:
        if self._pending_assign is not None:
            assigned, self._pending_assign = self._pending_assign, None
            if self._listener is not None:
                self._listener.on_partitions_assigned(assigned)
        deadline = time.monotonic() + timeout
        while True:
            out = self._fetch(max_records)
            if out or time.monotonic() >= deadline:
                return out
            time.sleep(min(0.02, max(0.0, deadline - time.monotonic())))

    def _fetch(self, max_records: int) -> list[Message]:
        if not self._positions:
            return []
        db = self.transport.db
        ends = self.end_offsets(self._positions)
        ready = [tp for tp, pos in self._positions.items() if pos < ends[tp]]
        if not ready:
            return []
        # rotate the starting partition so one busy partition cannot starve the others
        self._rr = (self._rr + 1) % len(ready)
        ready = ready[self._rr :] + ready[: self._rr]
        out: list[Message] = []
        new = tuple.__new__
        cache = self._cache
        for tp in ready:
            room = max_records - len(out)
            if room <= 0:
                break
            topic, part = tp
            pos, end = self._positions[tp], ends[tp]
            log = log_table(self._ids[topic], part)
            while room > 0 and pos < end:
                batch = cache.get(tp)
                if batch is None or not batch[0][0] <= pos <= batch[0][-1]:
                    batch = read_batch(db, log, pos, topic, part)  # checksum-verified
                    if batch is None:  # everything up to the end was compacted away
                        pos = end
                        break
                    cache[tp] = batch
                offs, keys, vals, stamps, hdrs = batch
                i = bisect_left(offs, pos)
                j = min(len(offs), i + room)
                out.extend(
                    [
                        new(Message, (topic, part, o, k, v, t, h))
                        for o, k, v, t, h in zip(
                            offs[i:j], keys[i:j], vals[i:j], stamps[i:j], hdrs[i:j]
                        )
                    ]
                )
                room -= j - i
                pos = offs[j - 1] + 1
                if j == len(offs):
                    del cache[tp]
            self._positions[tp] = pos
        return out

    def seek(self, tp: TopicPartition, offset: int) -> None:
        if tp not in self._positions:
            raise TransportError(f"cannot seek {tp.topic}[{tp.partition}]: not assigned")
        self._positions[tp] = offset

    def position(self, tp: TopicPartition) -> int:
        return self._positions[tp]

    # -- offsets ---------------------------------------------------------------------
    def _tid(self, topic: str) -> int:
        tid = self._ids.get(topic)
        if tid is None:
            tid = self._ids[topic] = self.transport.topic_info(topic)[0]
        return tid

    def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        if self.group_id is None:
            raise TransportError("cannot commit offsets without a consumer group")
        if not offsets:
            return
        groups.commit_offsets(
            self.transport.db,
            self.group_id,
            [(self._tid(tp.topic), tp.partition, off) for tp, off in offsets.items()],
            heartbeat=self._member,
        )

    def group_metadata(self) -> groups.GroupMetadata:
        """The group and broker file, for a transactional producer's ``commit_transaction``."""
        if self.group_id is None:
            raise TransportError("a consumer without a consumer group has no group metadata")
        return groups.GroupMetadata(self.group_id, self.transport.path)

    def committed(self, tp: TopicPartition) -> int | None:
        if self.group_id is None:
            return None
        return groups.committed_offset(
            self.transport.db, self.group_id, self._tid(tp.topic), tp.partition
        )

    def _partition_column(
        self, column: str, tps: Iterable[TopicPartition]
    ) -> dict[TopicPartition, int]:
        by_topic: dict[str, list[TopicPartition]] = {}
        for tp in tps:
            by_topic.setdefault(tp.topic, []).append(tp)
        out: dict[TopicPartition, int] = {}
        for topic, wanted in by_topic.items():
            values = dict(
                self.transport.db.execute(
                    f"SELECT partition, {column} FROM partitions WHERE tid=?", (self._tid(topic),)
                ).fetchall()
            )
            for tp in wanted:
                out[tp] = values[tp.partition]
        return out

    def end_offsets(self, tps: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        return self._partition_column("next_offset", tps)

    def beginning_offsets(self, tps: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        return self._partition_column("start_offset", tps)

    def close(self) -> None:
        if self._member:
            assert self.group_id is not None
            groups.leave(self.transport.db, self.group_id)
            self._member = False
