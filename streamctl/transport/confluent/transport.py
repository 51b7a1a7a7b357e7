"""ConfluentTransport: producers, consumers and topic admin on Kafka through librdkafka."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer as CKConsumer
from confluent_kafka import KafkaError
from confluent_kafka import Producer as CKProducer
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic, ResourceType

from streamctl.redact import redact_loggers
from streamctl.transport.base import (
    Consumer,
    GroupInfo,
    Producer,
    TopicPartition,
    TopicSpec,
)
from streamctl.transport.confluent.admin import ConfluentAdmin, result
from streamctl.transport.confluent.config import ConfluentSettings
from streamctl.transport.confluent.consumer import ConfluentTransportConsumer
from streamctl.transport.confluent.errors import translate
from streamctl.transport.confluent.producer import ConfluentTransportProducer
from streamctl.transport.exceptions import TransportError
from streamctl.transport.kafkashared import KafkaFamilyTransport, described_spec, topic_configs

SCHEME = "kafka+confluent"
#: librdkafka's own log lines go through Python logging under this name
LIBRDKAFKA_LOG = "streamctl.transport.confluent.librdkafka"
#: internal topics Kafka keeps (kafka-python's describe_topics flags them is_internal)
INTERNAL = frozenset({"__consumer_offsets", "__transaction_state", "__share_group_state"})


class ConfluentTransport(KafkaFamilyTransport):
    """``kafka+confluent://host:port[,host:port]``; settings go to librdkafka.

    Takes the kafka transport's setting names (``session_timeout_ms``,
    ``sasl_plain_password``, ...; see :mod:`streamctl.transport.confluent.config`),
    librdkafka's dotted names, and ``replication_factor`` (for created topics).
    """

    scheme = SCHEME
    supports_transactions = True

    def __init__(self, url: str, *, datadir: str | Path | None = None, **settings: Any) -> None:
        self.settings = ConfluentSettings(self._open(url, datadir, settings), settings)
        self._logger = logging.getLogger(LIBRDKAFKA_LOG)
        redact_loggers(LIBRDKAFKA_LOG, self.settings.secrets())
        self._admin: ConfluentAdmin | None = None

    def __repr__(self) -> str:  # never shows settings: they may hold passwords
        return f"<ConfluentTransport {self.bootstrap}>"

    @property
    def bootstrap(self) -> str:
        return self.settings.bootstrap

    def _config(self, config: dict[str, Any]) -> dict[str, Any]:
        return {**config, "logger": self._logger}

    def producer(self, *, transactional_id: str | None = None) -> Producer:
        timeout = self.settings.request_timeout
        extra = {} if transactional_id is None else {"transactional.id": transactional_id}
        with translate(self.bootstrap, "open producer"):
            producer = CKProducer(self._config(self.settings.producer(**extra)))
        if transactional_id is None:
            return ConfluentTransportProducer(producer, self.bootstrap, timeout)
        with translate(self.bootstrap, "open transactional producer"):
            # fences an older producer with this id and aborts its open transaction
            producer.init_transactions(timeout)
        return ConfluentTransportProducer(producer, self.bootstrap, timeout, transactional=True)

    def consumer(self, group_id: str | None) -> Consumer:
        # librdkafka wants a group id even to read assigned partitions; one that never
        # joins nor commits (commit and committed refuse without group_id)
        group = group_id if group_id is not None else f"streamctl-nogroup-{uuid.uuid4().hex}"
        with translate(self.bootstrap, "open consumer"):
            consumer = CKConsumer(self._config(self.settings.consumer(**{"group.id": group})))
        isolation = self.settings.isolation_level
        admin = self.admin

        def offsets(tps: Iterable[TopicPartition], which: str) -> dict[TopicPartition, int]:
            return admin.offsets_at(tps, which, isolation)

        return ConfluentTransportConsumer(
            consumer, group_id, self.bootstrap, self.settings.request_timeout, offsets
        )

    @property
    def admin(self) -> ConfluentAdmin:
        if self._admin is None:
            with translate(self.bootstrap, "open admin client"):
                client = AdminClient(self._config(self.settings.admin()))
            self._admin = ConfluentAdmin(client, self.bootstrap, self.settings.request_timeout)
            # librdkafka connects lazily: reach the broker now, bounded as kafka-python's
            # bootstrap, so a worker start sees BrokerUnavailable and waits for it
            with translate(self.bootstrap, "connect"):
                client.list_topics(timeout=self.settings.bootstrap_timeout)
        return self._admin

    def create_topics(self, specs: Iterable[TopicSpec]) -> None:
        admin = self.admin
        existing = admin.topics()
        wanted: dict[str, NewTopic] = {}
        for spec in specs:
            if spec.name in existing or spec.name in wanted:
                continue
            wanted[spec.name] = NewTopic(
                spec.name, spec.partitions, self.replication_factor, config=topic_configs(spec)
            )
        if not wanted:
            return
        futures = admin.admin.create_topics(
            list(wanted.values()), operation_timeout=admin.timeout, request_timeout=admin.timeout
        )
        for name, future in futures.items():
            exc = future.exception(timeout=admin.timeout)
            if exc is None:
                continue
            err = exc.args[0] if exc.args else None
            if isinstance(err, KafkaError) and err.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                continue  # a racing creator is fine
            raise TransportError(
                f"create topic {name!r} on Kafka at {self.bootstrap} failed: "
                f"{err.str() if isinstance(err, KafkaError) else exc}"
            )
        self._wait_for_topics(wanted)

    def _wait_for_topics(self, wanted: Mapping[str, NewTopic]) -> None:
        """Producers and consumers may use the topics right away: wait for their leaders."""
        deadline = time.monotonic() + 30
        while True:
            with translate(self.bootstrap, "create topics"):
                topics = self.admin.admin.list_topics(timeout=self.admin.timeout).topics
            ready = all(
                name in topics
                and len(topics[name].partitions) == new.num_partitions
                and all(p.leader >= 0 for p in topics[name].partitions.values())
                for name, new in wanted.items()
            )
            if ready:
                return
            if time.monotonic() > deadline:
                raise TransportError(f"created topics have no leaders on Kafka at {self.bootstrap}")
            time.sleep(0.1)

    def list_topics(self) -> dict[str, TopicSpec]:
        admin = self.admin
        with translate(self.bootstrap, "list topics"):
            meta = admin.admin.list_topics(timeout=admin.timeout).topics
        names = sorted(n for n in meta if n not in INTERNAL)
        if not names:
            return {}
        resources = [ConfigResource(ResourceType.TOPIC, n) for n in names]
        configs = {}
        for res, future in admin.admin.describe_configs(resources).items():
            entries = result(future, "list topics", self.bootstrap, admin.timeout)
            configs[res.name] = {k: e.value for k, e in entries.items()}
        return {n: described_spec(n, len(meta[n].partitions), configs.get(n, {})) for n in names}

    # -- group and topic administration (see streamctl.transport.confluent.admin) ----------
    def list_groups(self) -> list[GroupInfo]:
        return self.admin.list_groups()

    def describe_group(self, group_id: str) -> GroupInfo:
        return self.admin.describe_groups([group_id])[0]

    def group_offsets(self, group_id: str) -> dict[TopicPartition, int]:
        return self.admin.group_offsets(group_id)

    def alter_group_offsets(self, group_id: str, offsets: Mapping[TopicPartition, int]) -> None:
        self.admin.alter_group_offsets(group_id, offsets)

    def offsets_for_times(
        self, timestamps: Mapping[TopicPartition, int]
    ) -> dict[TopicPartition, int | None]:
        return self.admin.offsets_for_times(timestamps)

    def delete_topics(self, names: Iterable[str]) -> None:
        self.admin.delete_topics(names)

    def close(self) -> None:
        self._admin = None  # librdkafka's AdminClient has no close; dropped, it is freed
