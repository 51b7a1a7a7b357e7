"""DatetimeField: datetimes, with an optional zone given to naive values and converted to."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from datetime import timezone as dt_timezone
from typing import Any

from streamctl.models import typeexpr
from streamctl.models.fields.base import FieldDescriptor


class DatetimeField(FieldDescriptor):
    """A ``datetime`` field; with ``timezone`` naive values get that zone, aware ones convert."""

    def __init__(self, *, timezone: str | tzinfo | None = None, **kwargs: Any) -> None:
        self.tz = _resolve_timezone(timezone)
        self.timezone_name = timezone if isinstance(timezone, str) else None
        super().__init__(**kwargs)

    def timezone(self) -> tzinfo | None:
        return self.tz

    def fast_accept(self) -> Callable[[Any], bool] | None:
        if typeexpr.inner(self.node).kind != "datetime":
            return None
        return lambda v: type(v) is datetime


def _resolve_timezone(tz: str | tzinfo | None) -> tzinfo | None:
    if tz is None or isinstance(tz, tzinfo):
        return tz
    if tz.upper() in ("UTC", "Z"):
        return dt_timezone.utc
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(tz)
    except Exception:
        raise ValueError(f"unknown timezone {tz!r}") from None
