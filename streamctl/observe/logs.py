"""JSON logs (``--log-format json``): one JSON object per line, for log collectors.

Each line has ``time`` (ISO 8601, UTC, milliseconds), ``level``, ``logger`` and
``message``; when the line is logged while an agent processes an event (or the call
passes ``extra={"topic": ..., "partition": ..., "offset": ...}``), also that event's
``topic``, ``partition`` and ``offset``; and ``error`` with the exception's type and
text when one is attached. No traceback: the CLI's lines stay one line each.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from typing import Any

from streamctl.events import current_event

WHERE = ("topic", "partition", "offset")


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object (see the module's docstring for the fields)."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, tz=timezone.utc)
        out: dict[str, Any] = {
            "time": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if all(hasattr(record, k) for k in WHERE):
            out.update({k: getattr(record, k) for k in WHERE})
        else:
            event = current_event()
            if event is not None:
                m = event[2]
                out.update(topic=m.topic, partition=m.partition, offset=m.offset)
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            out["error"] = f"{type(exc).__name__}: {exc}"
        return json.dumps(out, ensure_ascii=False, default=str)
