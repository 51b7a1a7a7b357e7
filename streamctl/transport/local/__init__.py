"""The ``local://`` transport: the embedded broker, a durable partitioned log in SQLite.

- :mod:`~streamctl.transport.local.log`: the log file (schema, write transactions,
  record-batch rows, compaction);
- :mod:`~streamctl.transport.local.groups`: consumer groups (the one live member,
  committed offsets);
- :mod:`~streamctl.transport.local.producer` and
  :mod:`~streamctl.transport.local.consumer`: the clients;
- :mod:`~streamctl.transport.local.transport`: :class:`LocalTransport`, their
  factory and the topic admin.
"""

from streamctl.transport.local.consumer import LocalConsumer
from streamctl.transport.local.log import BROKER_FILE, FORMAT, broker_path
from streamctl.transport.local.producer import LocalProducer
from streamctl.transport.local.transport import LocalTransport

__all__ = [
    "BROKER_FILE",
    "FORMAT",
    "LocalConsumer",
    "LocalProducer",
    "LocalTransport",
    "broker_path",
]
