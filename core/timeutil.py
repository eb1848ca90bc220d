"""Times are stored in UTC and shown in the business line's timezone.

A timestamp given without an offset is read in the line's timezone.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def is_valid_zone(name: str) -> bool:
    try:
        zone(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def localize(value: dt.datetime, tz_name: str) -> dt.datetime:
    """An aware datetime: naive values are taken as wall-clock time in ``tz_name``."""
    if value.tzinfo is None:
        return value.replace(tzinfo=zone(tz_name))
    return value


def in_zone(value: dt.datetime | None, tz_name: str) -> dt.datetime | None:
    return None if value is None else value.astimezone(zone(tz_name))


def iso_in_zone(value: dt.datetime | None, tz_name: str) -> str | None:
    local = in_zone(value, tz_name)
    return None if local is None else local.isoformat()


DEFAULT_ZONE = "Asia/Shanghai"


def reader_zone(user) -> str:
    """The timezone a user reads cross-line lists in: their first business line's."""
    lines = getattr(user, "business_lines", None) or []
    return lines[0].timezone if lines else DEFAULT_ZONE


def local_time(value: dt.datetime | str | None, tz_name: str) -> str:
    """A moment (aware datetime or ISO 8601 text) as ``YYYY-MM-DD HH:MM`` in ``tz_name``."""
    if value is None:
        return "—"
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return in_zone(value, tz_name).strftime("%Y-%m-%d %H:%M")
