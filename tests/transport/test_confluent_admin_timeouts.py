"""confluent admin calls whose futures do not finish in time raise BrokerUnavailable.

A future's own TimeoutError is no TransportError: after a broker restart the worker's
standby choice (``describe_group`` inside ``on_partitions_assigned``) crashed the
kafka+confluent:// worker with a traceback instead of waiting for the broker.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

import pytest

pytest.importorskip("confluent_kafka")

from confluent_kafka.admin import OffsetSpec

from streamctl.transport.base import TopicPartition
from streamctl.transport.confluent.admin import ConfluentAdmin
from streamctl.transport.exceptions import BrokerUnavailable


class _Never:
    """An AdminClient whose every request stays unanswered."""

    def __getattr__(self, name: str) -> Any:
        def call(requests: Any = None, *args: Any, **kwargs: Any) -> dict[Any, Future[Any]]:
            keys = list(requests) if requests is not None else []
            if name == "alter_consumer_group_offsets" or name == "list_consumer_group_offsets":
                keys = [r.group_id for r in requests]
            return {k: Future() for k in keys}

        return call


def _admin() -> ConfluentAdmin:
    return ConfluentAdmin(_Never(), "127.0.0.1:1", 0.05)  # type: ignore[arg-type]


def test_describe_groups_timeout_is_broker_unavailable() -> None:
    with pytest.raises(BrokerUnavailable, match="describe consumer groups"):
        _admin().describe_groups(["g"])


def test_group_offsets_timeout_is_broker_unavailable() -> None:
    with pytest.raises(BrokerUnavailable, match="read group offsets"):
        _admin().group_offsets("g")


def test_list_offsets_timeout_is_broker_unavailable() -> None:
    with pytest.raises(BrokerUnavailable, match="list offsets"):
        _admin().list_offsets({TopicPartition("t", 0): OffsetSpec.latest()})
