"""The ``memory://`` transport: a broker in this process's memory, for tests.

Public through :mod:`streamctl.testing`; it passes the same contract tests as
``local://`` and ``kafka://`` (``tests/test_transport_contract.py``).

- :mod:`~streamctl.transport.memory.broker`: topics, partition logs, groups, one lock;
- :mod:`~streamctl.transport.memory.groups`: consumer groups (range assignment,
  cooperative hand-over, committed offsets);
- :mod:`~streamctl.transport.memory.producer` and
  :mod:`~streamctl.transport.memory.consumer`: the clients;
- :mod:`~streamctl.transport.memory.transport`: :class:`MemoryTransport`.
"""

from streamctl.transport.memory.broker import MemoryBroker
from streamctl.transport.memory.consumer import MemoryConsumer
from streamctl.transport.memory.producer import MemoryProducer
from streamctl.transport.memory.transport import MemoryTransport

__all__ = ["MemoryBroker", "MemoryConsumer", "MemoryProducer", "MemoryTransport"]
