"""streamctl.admin.groups: the parts of a reset plan that need no broker."""

from __future__ import annotations

from datetime import datetime

import pytest

from streamctl.admin.groups import PartitionLag, parse_datetime
from streamctl.exceptions import ConfigurationError


def test_parse_datetime_zones_as_kafka_consumer_groups() -> None:
    # with a zone: that instant; Z is UTC
    assert parse_datetime("2026-11-30T05:00:00Z") == 1_796_014_800_000
    assert parse_datetime("2026-11-30T06:00:00+01:00") == 1_796_014_800_000
    assert parse_datetime("2026-11-30T05:00:00.250Z") == 1_796_014_800_250
    # without one: local time, as kafka-consumer-groups.sh --to-datetime takes it
    local = datetime(2026, 11, 30, 5, 0, 0)
    assert parse_datetime("2026-11-30T05:00:00") == int(local.timestamp() * 1000)
    assert parse_datetime("2026-11-30") == int(datetime(2026, 11, 30).timestamp() * 1000)
    for bad in ("yesterday", "", "2026-13-01", "1700000000000"):
        with pytest.raises(ConfigurationError, match="is not a date and time"):
            parse_datetime(bad)


def test_lag_counts_from_the_start_where_nothing_is_committed() -> None:
    assert PartitionLag("t", 0, committed=None, start=3, end=10).lag == 7
    assert PartitionLag("t", 0, committed=8, start=3, end=10).lag == 2
    assert PartitionLag("t", 0, committed=10, start=3, end=10).lag == 0
