"""The worker's log lines and stats for the table partitions it rebuilds from their changelogs.

Mixed into :class:`~streamctl.worker.loop.Worker`: the table manager reports each
partition's replay progress, the rebalance calls :meth:`RecoveryLog._log_recovered`
once an assignment's tables are ready.
"""

from __future__ import annotations

import logging

from streamctl.tables.base import Collection
from streamctl.tables.recovery import Progress
from streamctl.worker.stats import WorkerStats

log = logging.getLogger("streamctl.worker")


class RecoveryLog:
    """Recovery progress into the worker's stats, a line per rebuilt partition and one
    summary line per assignment."""

    stats: WorkerStats
    on_recovery: Progress | None
    _recovered: list[tuple[str, int]]

    def _recovery_progress(self, table: Collection, partition: int, done: int, total: int) -> None:
        self.stats.recovery[(table.name, partition)] = (done, total)
        if self.on_recovery is not None:
            self.on_recovery(table, partition, done, total)
        if done == total:
            # a partition that replayed records gets its line; empty ones only the summary
            log.log(
                logging.INFO if total else logging.DEBUG,
                "recovered table %s[%d]: %s changelog records",
                table.name,
                partition,
                f"{total:,}",
            )
            self._recovered.append((table.name, total))

    def _log_recovered(self) -> None:
        """One line for the table partitions rebuilt on an assignment, with their records."""
        done, self._recovered = self._recovered, []
        self.stats.rebalances += 1
        self.stats.ready = True
        if done:
            log.info(
                "tables ready: %s partition(s) of %s table(s), %s changelog record(s) replayed",
                f"{len(done):,}",
                f"{len({name for name, _ in done}):,}",
                f"{sum(n for _, n in done):,}",
            )
