"""Consumer over confluent-kafka's Consumer, with explicit commits only.

librdkafka calls rebalance callbacks from inside ``consume`` on the calling thread,
so the streamctl listener runs there as it does on kafka-python: revoked partitions
before they go, assigned ones (already assigned, so the listener may seek and read
committed offsets) before their first record.

What the listener raises is raised by ``poll`` (confluent-kafka re-raises it from
``consume``). After that the listener is not called again: the worker is failing, and
the revoke librdkafka runs as the consumer closes must not commit for it. ``close`` is
bounded (``CLOSE_TIMEOUT``): librdkafka's close waits for the group to let go, which
after a failed rebalance callback can take forever (librdkafka issues #4527, #4884); a
close that does not finish is left on a daemon thread, and the group's session
timeout frees the partitions, so a worker that failed, or got SIGTERM, exits in
bounded time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from confluent_kafka import OFFSET_INVALID, KafkaError, KafkaException
from confluent_kafka import Consumer as CKConsumer
from confluent_kafka import TopicPartition as CKTP

from streamctl.transport.base import Consumer, Message, RebalanceListener, TopicPartition
from streamctl.transport.confluent.errors import UNKNOWN_TOPIC, error_of, translate
from streamctl.transport.exceptions import TransportError

Offsets = Callable[[Iterable[TopicPartition], str], dict[TopicPartition, int]]

log = logging.getLogger("streamctl.transport")

#: seconds ``close`` waits for librdkafka's close (leaving the group, a last revoke)
CLOSE_TIMEOUT = 30.0


def _tps(parts: Iterable[Any]) -> set[TopicPartition]:
    return {TopicPartition(p.topic, p.partition) for p in parts}


class ConfluentTransportConsumer(Consumer):
    """``offsets(tps, "earliest" | "latest")``: ListOffsets at this consumer's isolation
    level (read_committed: the last stable offset, as kafka-python's end_offsets)."""

    def __init__(
        self,
        consumer: CKConsumer,
        group_id: str | None,
        bootstrap: str,
        timeout: float,
        offsets: Offsets,
    ) -> None:
        self._consumer = consumer
        self._group_id = group_id
        self._bootstrap = bootstrap
        self._timeout = timeout
        self._offsets = offsets
        self._listener: RebalanceListener | None = None
        #: the listener raised: it is not called again (the worker is failing)
        self._listener_failed = False
        #: where a seek put a partition, with librdkafka's position just after that seek
        #: (-1001 while it has not fetched since): the position until librdkafka's moves
        self._seeked: dict[TopicPartition, tuple[int, int]] = {}

    def assign(self, partitions: Iterable[TopicPartition]) -> None:
        self._seeked.clear()
        with translate(self._bootstrap, "assign"):
            self._consumer.assign([CKTP(tp[0], tp[1]) for tp in partitions])

    def subscribe(self, topics: Sequence[str], listener: RebalanceListener | None = None) -> None:
        if self._group_id is None:
            raise TransportError("subscribe needs a consumer group (group_id is None)")
        self._listener = listener
        with translate(self._bootstrap, "subscribe"):
            self._consumer.subscribe(
                list(topics),
                on_assign=self._on_assign,
                on_revoke=self._on_revoke,
                on_lost=self._on_lost,
            )

    def _on_assign(self, consumer: CKConsumer, parts: list[CKTP]) -> None:
        self._seeked.clear()
        consumer.assign(parts)  # first, so the listener may seek and read offsets
        if self._listener is not None and not self._listener_failed:
            self._call(self._listener.on_partitions_assigned, _tps(parts))

    def _call(self, hook: Callable[[set[TopicPartition]], None], tps: set[TopicPartition]) -> None:
        try:
            hook(tps)
        except BaseException:
            self._listener_failed = True
            raise

    def _on_revoke(self, consumer: CKConsumer, parts: list[CKTP]) -> None:
        try:
            if parts and self._listener is not None and not self._listener_failed:
                self._call(self._listener.on_partitions_revoked, _tps(parts))
        finally:
            consumer.unassign()
            self._seeked.clear()

    def _on_lost(self, consumer: CKConsumer, parts: list[CKTP]) -> None:
        # forced eviction: streamctl's listener has one hook for "partitions go"
        self._on_revoke(consumer, parts)

    def assignment(self) -> set[TopicPartition]:
        return _tps(self._consumer.assignment())

    def poll(self, max_records: int = 1000, timeout: float = 0.0) -> list[Message]:
        with translate(self._bootstrap, "poll"):
            batch = self._consumer.consume(max_records, timeout)
        if not batch:
            return []
        new = tuple.__new__
        out = []
        for m in batch:
            err = m.error()
            if err is not None:
                self._failed(err)
                continue
            out.append(
                new(
                    Message,
                    (
                        m.topic(),
                        m.partition(),
                        m.offset(),
                        m.key(),
                        m.value(),
                        m.timestamp()[1],
                        m.headers() or (),
                    ),
                )
            )
        if self._seeked:  # librdkafka's position is right again for partitions read since
            for message in out:
                self._seeked.pop(TopicPartition(message.topic, message.partition), None)
        return out

    def _failed(self, err: KafkaError) -> None:
        if err.code() in UNKNOWN_TOPIC or err.code() == KafkaError._PARTITION_EOF:
            return  # as kafka-python: a subscribed topic that does not exist yet is quiet
        raise error_of(err, "poll", self._bootstrap)

    def seek(self, tp: TopicPartition, offset: int) -> None:
        target = CKTP(tp[0], tp[1], offset)
        with translate(self._bootstrap, "seek"):
            try:
                self._consumer.seek(target)
            except KafkaException as exc:
                if exc.args[0].code() != KafkaError._STATE:
                    raise
                # librdkafka seeks only partitions it is fetching already; one just
                # assigned starts at the offset it is assigned with instead
                self._consumer.incremental_unassign([CKTP(tp[0], tp[1])])
                self._consumer.incremental_assign([target])
            (now,) = self._consumer.position([CKTP(tp[0], tp[1])])
        self._seeked[TopicPartition(tp[0], tp[1])] = (offset, now.offset)

    def position(self, tp: TopicPartition) -> int:
        key = TopicPartition(tp[0], tp[1])
        with translate(self._bootstrap, "position"):
            (found,) = self._consumer.position([CKTP(tp[0], tp[1])])
        seeked = self._seeked.get(key)
        if seeked is not None and (found.offset < 0 or found.offset == seeked[1]):
            return seeked[0]  # librdkafka has not fetched since the seek
        if found.offset >= 0:
            # librdkafka's own position: past every record returned, and past what it
            # fetched and does not return (transaction markers, aborted records)
            self._seeked.pop(key, None)
            return int(found.offset)
        # nothing read yet: where reading starts (the committed offset, else the earliest)
        committed = self.committed(key)
        if committed is not None:
            return committed
        return self.beginning_offsets([key])[key]

    def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        if self._group_id is None:
            raise TransportError("commit needs a consumer group (group_id is None)")
        if not offsets:
            return
        with translate(self._bootstrap, "commit"):
            result = self._consumer.commit(
                offsets=[CKTP(tp[0], tp[1], off) for tp, off in offsets.items()],
                asynchronous=False,
            )
        for part in result or ():
            if part.error is not None:
                raise error_of(part.error, "commit", self._bootstrap)

    def committed(self, tp: TopicPartition) -> int | None:
        if self._group_id is None:
            return None
        with translate(self._bootstrap, "committed"):
            (found,) = self._consumer.committed([CKTP(tp[0], tp[1])], timeout=self._timeout)
        if found.error is not None:
            raise error_of(found.error, "committed", self._bootstrap)
        return None if found.offset == OFFSET_INVALID or found.offset < 0 else int(found.offset)

    def end_offsets(self, tps: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        return self._offsets(tps, "latest")

    def beginning_offsets(self, tps: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        return self._offsets(tps, "earliest")

    def group_metadata(self) -> object:
        """librdkafka's group snapshot, for ``send_offsets_to_transaction`` (KIP-447)."""
        return self._consumer.consumer_group_metadata()

    def close(self) -> None:
        """Close, waiting at most ``CLOSE_TIMEOUT`` seconds for librdkafka; then give up
        on it with a warning (see the module docstring)."""
        failure: list[BaseException] = []

        def run() -> None:
            try:
                self._consumer.close()
            except BaseException as exc:  # raised below, on the caller's thread
                failure.append(exc)

        closing = threading.Thread(target=run, name="streamctl-consumer-close", daemon=True)
        closing.start()
        closing.join(CLOSE_TIMEOUT)
        if closing.is_alive():
            self._listener_failed = True  # a revoke it still runs must not touch the worker
            log.warning(
                "closing the consumer did not finish in %gs: left behind (the group's "
                "session timeout frees its partitions)",
                CLOSE_TIMEOUT,
            )
            return
        if failure:
            raise failure[0]
