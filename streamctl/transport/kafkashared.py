"""What the two Kafka transports share: kafka:// (kafka-python), kafka+confluent:// (librdkafka).

Their URLs and common settings, the transaction steps of their producers (the client
calls differ, the error handling does not), the refusal of a group with live members,
and how a declared topic becomes a created topic's configuration and back.
"""

from __future__ import annotations

import abc
import logging
import math
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from streamctl.exceptions import ConfigurationError
from streamctl.transport.base import (
    Consumer,
    GroupInfo,
    Headers,
    Producer,
    TopicPartition,
    TopicSpec,
    Transport,
)
from streamctl.transport.exceptions import (
    BadBrokerURL,
    BrokerUnavailable,
    GroupNotEmpty,
    TransactionFailed,
    TransportError,
)
from streamctl.transport.servers import parse_servers

log = logging.getLogger("streamctl.transport.kafka")

#: one record as queued: (topic, key, value, partition, headers, timestamp in ms)
Record = tuple[str, bytes | None, bytes | None, int | None, Headers | None, int | None]
#: ``translate(bootstrap, what)``: a client's errors re-raised as streamctl's
Translate = Callable[[str, str], AbstractContextManager[None]]


def finite_number(value: Any) -> float | None:
    """``value`` as a finite number (a number, or text of one), or None (a bool too)."""
    if isinstance(value, bool):
        return None
    try:
        n = float(value)
    except (TypeError, ValueError):
        return None
    return n if math.isfinite(n) else None


class KafkaFamilyTransport(Transport):
    """``SCHEME://host:port[,host:port]``: the URL check and the settings both take."""

    @classmethod
    def check_url(cls, url: str) -> str | None:
        try:
            parse_servers(url, cls.scheme)
        except BadBrokerURL as exc:
            return str(exc)
        return None

    @classmethod
    def check_setting_values(cls, settings: Mapping[str, Any]) -> dict[str, str]:
        """``replication_factor`` must be a whole number of replicas (or -1, the broker's
        default) and ``request_timeout_ms`` / ``bootstrap_timeout_ms`` milliseconds above
        0; numbers may be written as text (``${RF}`` expands to text)."""
        out: dict[str, str] = {}
        if "replication_factor" in settings:
            value = settings["replication_factor"]
            n = finite_number(value)
            if n is None or n != int(n) or not (n >= 1 or n == -1):
                out["replication_factor"] = (
                    "broker setting replication_factor must be a whole number of replicas "
                    f"(1 or more; -1: the broker's default), not {value!r}"
                )
        for name in ("request_timeout_ms", "bootstrap_timeout_ms"):
            if name in settings:
                n = finite_number(settings[name])
                if n is None or not n > 0:
                    out[name] = (
                        f"broker setting {name} must be a number of milliseconds above 0, "
                        f"not {settings[name]!r}"
                    )
        return out

    def _open(self, url: str, datadir: str | Path | None, settings: dict[str, Any]) -> list[str]:
        """Note the URL, data dir and ``replication_factor`` (popped from ``settings``, -1:
        the broker's default, for created topics), turn the timeouts written as text into
        numbers; return the bootstrap servers.
        ConfigurationError for a value :meth:`check_setting_values` refuses."""
        for reason in self.check_setting_values(settings).values():
            raise ConfigurationError(reason)
        self.url = url
        self.datadir = Path(datadir) if datadir is not None else None
        self.replication_factor = int(float(settings.pop("replication_factor", -1)))
        for name in ("request_timeout_ms", "bootstrap_timeout_ms"):
            if isinstance(settings.get(name), str):  # text of a number (checked above):
                n = float(settings[name])  # ${TIMEOUT} expands to text; the clients divide it
                settings[name] = int(n) if n.is_integer() else n
        return parse_servers(url, self.scheme)


class KafkaFamilyProducer(Producer):
    """A Kafka producer's transaction steps over a client's calls (the ``_`` hooks).

    ``commit_transaction`` raises TransactionFailed for any failure but an unreachable
    broker (BrokerUnavailable: the worker waits and retries); ``abort_transaction``
    only logs a failure (a fenced or broken producer cannot abort; the broker aborts
    the transaction on its timeout).
    """

    def __init__(self, bootstrap: str, translate: Translate, *, transactional: bool) -> None:
        self._bootstrap = bootstrap
        self._translate = translate
        self._transactional = transactional
        self._pending: list[Any] = []

    @property
    def pending(self) -> int:
        return len(self._pending)

    @abc.abstractmethod
    def _queue(self, record: Record) -> None:
        """Hand one record to the client (and note it in ``_pending``)."""

    def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        *,
        partition: int | None = None,
        headers: Headers | None = None,
        timestamp: int | None = None,
    ) -> None:
        self._queue((topic, key, value, partition, headers, timestamp))

    @abc.abstractmethod
    def _begin(self) -> None: ...

    @abc.abstractmethod
    def _send_offsets(self, offsets: Mapping[TopicPartition, int], group: object) -> None: ...

    @abc.abstractmethod
    def _commit(self) -> None: ...

    @abc.abstractmethod
    def _abort(self) -> None: ...

    @abc.abstractmethod
    def _close(self) -> None:
        """Release the client (bounded when transactional: it holds nothing to deliver)."""

    def begin_transaction(self) -> None:
        with self._translate(self._bootstrap, "begin transaction"):
            self._begin()

    def commit_transaction(
        self, offsets: Mapping[TopicPartition, int], consumer: Consumer | None = None
    ) -> None:
        if offsets and consumer is None:
            raise TransportError("commit_transaction: offsets to commit need their consumer")
        try:
            with self._translate(self._bootstrap, "commit transaction"):
                if offsets:
                    assert consumer is not None
                    self._send_offsets(offsets, consumer.group_metadata())
                self._commit()
        except (BrokerUnavailable, TransactionFailed):
            raise
        except TransportError as exc:
            # e.g. "Cannot execute transactional method because we are in an error state"
            # (the producer was fenced earlier): only an abort and a new producer help
            raise TransactionFailed(str(exc)) from exc

    def abort_transaction(self) -> None:
        self._pending = []
        try:
            with self._translate(self._bootstrap, "abort transaction"):
                self._abort()
        except TransportError as exc:
            log.warning("could not abort the transaction: %s", exc)

    def close(self) -> None:
        try:
            if not self._transactional:
                self.flush()
        finally:
            self._close()


def refuse_members(info: GroupInfo) -> None:
    """GroupNotEmpty when the group has live members (Kafka alters offsets only of an
    empty group, and would fail a member's partitions one by one)."""
    if info.members:
        raise GroupNotEmpty(
            f"consumer group {info.group_id!r} has live members "
            f"({', '.join(map(str, info.members))}): stop its workers first"
        )


def topic_configs(spec: TopicSpec) -> dict[str, str]:
    """The topic configuration to create ``spec`` with (compaction as cleanup.policy)."""
    configs = dict(spec.config)
    if spec.compacting:
        configs["cleanup.policy"] = "compact"
    return configs


def described_spec(name: str, partitions: int, config: Mapping[str, str]) -> TopicSpec:
    """A topic as the broker describes it: a TopicSpec compacting by its cleanup.policy."""
    policy = config.get("cleanup.policy") or "delete"
    return TopicSpec(
        name=name,
        partitions=partitions,
        compacting="compact" in policy.split(","),
        config=dict(config),
    )
