"""The worker: runs an App's agents, tables and timers against its broker (see ``loop``)."""

from streamctl.worker.loop import Worker, WorkerStats

__all__ = ["Worker", "WorkerStats"]
