"""KafkaTransport: producers, consumers and topic admin on one Kafka cluster."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import ConfigResource, ConfigResourceType

from streamctl.redact import redact_loggers
from streamctl.transport.base import (
    Consumer,
    GroupInfo,
    Producer,
    TopicPartition,
    TopicSpec,
)
from streamctl.transport.exceptions import TransportError
from streamctl.transport.kafka import admin as kadmin
from streamctl.transport.kafka import announce
from streamctl.transport.kafka.config import SETTING_NAMES, KafkaSettings, refused_values
from streamctl.transport.kafka.consumer import KafkaTransportConsumer
from streamctl.transport.kafka.errors import translate, watch_refusals
from streamctl.transport.kafka.producer import KafkaTransportProducer
from streamctl.transport.kafkashared import KafkaFamilyTransport, described_spec, topic_configs

TOPIC_ALREADY_EXISTS = 36


class KafkaTransport(KafkaFamilyTransport):
    """``kafka://host:port[,host:port]``; keyword settings go to kafka-python.

    Settings (all optional): ``client_id``, ``acks``, ``linger_ms``,
    ``batch_size``, ``compression``, ``max_poll_records``, ``fetch_max_bytes``,
    ``max_partition_fetch_bytes``, ``request_timeout_ms``, ``security_protocol``,
    ``sasl_mechanism``, ``sasl_plain_username``, ``sasl_plain_password``,
    ``ssl_cafile``, ``ssl_certfile``, ``ssl_keyfile``, ``replication_factor``
    (for created topics) and any other kafka-python client option.
    """

    scheme = "kafka"
    supports_transactions = True

    @classmethod
    def setting_names(cls) -> frozenset[str]:
        """kafka-python's producer, consumer and admin option names, streamctl's aliases for
        some of them, and ``replication_factor`` (for created topics)."""
        return SETTING_NAMES | {"replication_factor"}

    @classmethod
    def check_setting_values(cls, settings: Mapping[str, Any]) -> dict[str, str]:
        """The Kafka settings' checks (:meth:`KafkaFamilyTransport.check_setting_values`)
        and kafka-python's (a ``partitioner`` must be an object)."""
        return {**super().check_setting_values(settings), **refused_values(settings)}

    def __init__(self, url: str, *, datadir: str | Path | None = None, **settings: Any) -> None:
        self.settings = KafkaSettings(self._open(url, datadir, settings), settings)
        self._admin: KafkaAdminClient | None = None
        self._announced = ""
        # kafka-python logs its client configuration (the password too) at DEBUG
        redact_loggers("kafka", self.settings.secrets())
        watch_refusals()  # a SASL/SSL mismatch is reported with its cause, not as a timeout

    def __repr__(self) -> str:  # never shows settings: they may hold passwords
        return f"<KafkaTransport {self.settings.bootstrap}>"

    @property
    def bootstrap(self) -> str:
        return self.settings.bootstrap

    def producer(self, *, transactional_id: str | None = None) -> Producer:
        if transactional_id is None:
            with translate(self.bootstrap, "open producer"):
                producer = KafkaProducer(**self.settings.producer())
            return KafkaTransportProducer(producer, self.bootstrap)
        with translate(self.bootstrap, "open transactional producer"):
            producer = KafkaProducer(**self.settings.producer(transactional_id=transactional_id))
            try:
                # fences an older producer with this id and aborts its open transaction
                producer.init_transactions()
            except BaseException:
                producer.close(timeout=1)
                raise
        return KafkaTransportProducer(producer, self.bootstrap, transactional=True)

    members_share_datadir = False

    def announce(self, info: str) -> None:
        """Carry ``info`` in the member metadata of the groups this transport's consumers
        join from now on (``streamctl.transport.kafka.announce``)."""
        self._announced = info

    def consumer(self, group_id: str | None) -> Consumer:
        config = self.settings.consumer(group_id=group_id)
        if group_id is not None and self._announced:
            configured = config.get(
                "partition_assignment_strategy",
                KafkaConsumer.DEFAULT_CONFIG["partition_assignment_strategy"],
            )
            config["partition_assignment_strategy"] = announce.strategies(
                configured, self._announced
            )
        with translate(self.bootstrap, "open consumer"):
            consumer = KafkaConsumer(**config)
        return KafkaTransportConsumer(consumer, group_id, self.bootstrap)

    @property
    def admin(self) -> KafkaAdminClient:
        if self._admin is None:
            with translate(self.bootstrap, "open admin client"):
                self._admin = KafkaAdminClient(**self.settings.admin())
        return self._admin

    def create_topics(self, specs: Iterable[TopicSpec]) -> None:
        with translate(self.bootstrap, "create topics"):
            existing = set(self.admin.list_topics())
            wanted = {}
            for spec in specs:
                if spec.name in existing or spec.name in wanted:
                    continue
                wanted[spec.name] = {
                    "num_partitions": spec.partitions,
                    "replication_factor": self.replication_factor,
                    "configs": topic_configs(spec),
                }
            if not wanted:
                return
            result = self.admin.create_topics(wanted, raise_errors=False)
            for topic in result["topics"]:
                code = topic["error_code"]
                if code not in (0, TOPIC_ALREADY_EXISTS):  # a racing creator is fine
                    raise TransportError(
                        f"create topic {topic['name']!r} on Kafka at {self.bootstrap} failed: "
                        f"{topic.get('error_message') or code}"
                    )
            # Producers and consumers may use the topics right away.
            self.admin.wait_for_topics(list(wanted), timeout_ms=30_000)

    def list_topics(self) -> dict[str, TopicSpec]:
        with translate(self.bootstrap, "list topics"):
            topics = [t for t in self.admin.describe_topics() if not t["is_internal"]]
            if not topics:
                return {}
            resources = [ConfigResource(ConfigResourceType.TOPIC, t["name"]) for t in topics]
            configs = self.admin.describe_configs(resources).get("topic", {})
        return {
            t["name"]: described_spec(
                t["name"],
                len(t["partitions"]),
                {k: v["value"] for k, v in configs.get(t["name"], {}).items()},
            )
            for t in topics
        }

    # -- group and topic administration (see streamctl.transport.kafka.admin) -------------
    def list_groups(self) -> list[GroupInfo]:
        with translate(self.bootstrap, "list consumer groups"):
            return kadmin.list_groups(self.admin)

    def describe_group(self, group_id: str) -> GroupInfo:
        with translate(self.bootstrap, "describe consumer group"):
            return kadmin.describe_groups(self.admin, [group_id])[0]

    def group_offsets(self, group_id: str) -> dict[TopicPartition, int]:
        with translate(self.bootstrap, "read group offsets"):
            return kadmin.group_offsets(self.admin, group_id)

    def alter_group_offsets(self, group_id: str, offsets: Mapping[TopicPartition, int]) -> None:
        with translate(self.bootstrap, "alter group offsets"):
            kadmin.alter_group_offsets(self.admin, group_id, offsets, self.bootstrap)

    def offsets_for_times(
        self, timestamps: Mapping[TopicPartition, int]
    ) -> dict[TopicPartition, int | None]:
        with translate(self.bootstrap, "offsets for times"):
            return kadmin.offsets_for_times(self.admin, timestamps)

    def delete_topics(self, names: Iterable[str]) -> None:
        with translate(self.bootstrap, "delete topics"):
            kadmin.delete_topics(self.admin, names, self.bootstrap)

    def close(self) -> None:
        if self._admin is not None:
            self._admin.close()
            self._admin = None
