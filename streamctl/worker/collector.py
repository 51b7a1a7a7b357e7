"""The cycle collector while a worker runs: its first threshold sized to the batches.

Every event of a batch is a few tuple subclasses (the broker's ``Message``, the
``EventMessage`` and ``Event`` agents see) that CPython's cycle collector tracks and
never untracks, all alive until the batch is done. With the default first threshold
(700 tracked objects) the collector runs every ~200 events and traverses the live
batch again and again, promoting it to older generations whose collections cost
more: 15-20% of a worker's time on the embedded broker (bench scenarios b and c).
Reference counting frees those objects when the batch ends, so the collector finds
nothing in them. While a worker runs, the first threshold is raised to
:data:`PER_RECORD` tracked objects per record of a full poll (``max_poll_records``),
so it runs about once per batch or less; it is restored when the last running worker
of the process stops. Cyclic garbage is still collected, once that many objects
accumulate.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

#: tracked objects allowed per record of a full poll before a collection
PER_RECORD = 20

_lock = threading.Lock()
_running = 0
_saved: tuple[int, int, int] | None = None


@contextlib.contextmanager
def batch_sized(max_poll_records: int) -> Iterator[None]:
    """Run the block with the collector's first threshold at least ``PER_RECORD *
    max_poll_records`` (``gc.set_threshold``); the thresholds of before come back
    when the last block of the process (a worker, in any thread) ends."""
    global _running, _saved
    with _lock:
        current = gc.get_threshold()
        if _running == 0:
            _saved = current
        _running += 1
        wanted = PER_RECORD * max_poll_records
        if current[0] and wanted > current[0]:  # 0: collection is off; leave it so
            gc.set_threshold(wanted, *current[1:])
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0 and _saved is not None:
                gc.set_threshold(*_saved)
                _saved = None
