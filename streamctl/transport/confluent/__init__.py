"""The ``kafka+confluent://`` transport: Apache Kafka through confluent-kafka (librdkafka).

Optional: ``pip install 'streamctl[confluent]'``. ``kafka://`` stays kafka-python.
"""

from streamctl.transport.confluent.transport import ConfluentTransport

__all__ = ["ConfluentTransport"]
