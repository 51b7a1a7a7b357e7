"""Fixtures the table tests share: an in-memory transport and its producer."""

from __future__ import annotations

import pytest

from streamctl.testing import MemoryTransport


@pytest.fixture
def transport():
    return MemoryTransport()


@pytest.fixture
def producer(transport):
    return transport.producer()
