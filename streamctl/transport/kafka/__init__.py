"""The ``kafka://`` transport: Apache Kafka through kafka-python."""

from streamctl.transport.kafka.transport import KafkaTransport

__all__ = ["KafkaTransport"]
