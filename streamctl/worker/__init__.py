"""The worker: runs an App's agents, tables and timers against its broker.

Modules, named after what they do: ``loop`` (the run loop: poll, process, commit cycle,
idle and drain), ``dispatch`` (topics to agent streams, waiting for the agents),
``deadletter`` (parking records that cannot be processed), ``commit`` (the one written
statement of the commit order), ``committer`` (when to commit, which offsets),
``rebalance`` (partitions assigned and revoked), ``retry`` (waiting for an absent
broker) and ``stats`` (the status line's figures).
"""

from streamctl.worker.loop import Worker
from streamctl.worker.stats import WorkerStats

__all__ = ["Worker", "WorkerStats"]
