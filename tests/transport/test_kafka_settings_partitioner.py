"""A pipeline file's ``partitioner:`` value is refused up front, not at the first send.

kafka-python calls ``partitioner.partition(...)`` per record; ``broker_settings:
{partitioner: murmur2}`` passed ``validate`` and then failed the first send with a
TypeError traceback (``str`` has a ``partition`` method of its own).
"""

from __future__ import annotations

import pytest
from kafka.partitioner.default import DefaultPartitioner

from streamctl.exceptions import ConfigurationError
from streamctl.transport.kafka.config import KafkaSettings


@pytest.mark.parametrize("value", ["murmur2", 3, ["a"], {"a": 1}])
def test_a_partitioner_from_a_file_is_refused(value: object) -> None:
    with pytest.raises(ConfigurationError, match="partitioner"):
        KafkaSettings(["127.0.0.1:1"], {"partitioner": value})


def test_a_partitioner_object_is_kept() -> None:
    custom = DefaultPartitioner()
    settings = KafkaSettings(["127.0.0.1:1"], {"partitioner": custom})
    assert settings.producer()["partitioner"] is custom
