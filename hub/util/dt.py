"""Time helpers. Every datetime in the hub is timezone-aware; storage uses UTC."""

from __future__ import annotations

import time
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

__all__ = [
    "as_local", "now", "set_site_time_zone", "site_time_zone", "timestamp", "utc_from_timestamp",
    "utcnow",
]

_site_tz: tzinfo = ZoneInfo("Asia/Shanghai")


def set_site_time_zone(tz: tzinfo | str) -> None:
    """Set the site's time zone used by ``now()`` and ``as_local()``."""
    global _site_tz
    _site_tz = ZoneInfo(tz) if isinstance(tz, str) else tz


def site_time_zone() -> tzinfo:
    """Return the site's configured time zone."""
    return _site_tz


def utcnow() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(UTC)


def now() -> datetime:
    """Return the current time in the site's time zone."""
    return datetime.now(_site_tz)


def utc_from_timestamp(ts: float) -> datetime:
    """Convert a POSIX timestamp to an aware UTC datetime."""
    return datetime.fromtimestamp(ts, UTC)


def as_local(value: datetime) -> datetime:
    """Convert an aware datetime to the site's time zone."""
    if value.tzinfo is None:
        raise ValueError(  # i18n: internal (a bug: site times are aware)
            f"naive datetime {value.isoformat()} has no time zone")
    return value.astimezone(_site_tz)


def timestamp() -> float:
    """Return the current POSIX time as a float (cheap; used on hot paths)."""
    return time.time()
