"""When an expert can be interrupted: out-of-office and working hours in their own time zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from whoknows.routing.prefs import Prefs


def zone(name: str | None) -> ZoneInfo:
    """The person's time zone (``people.timezone``); UTC when unknown or invalid."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def is_working(now: datetime, tz: str | None, prefs: Prefs) -> bool:
    local = now.astimezone(zone(tz))
    return local.isoweekday() in prefs.work_days and prefs.work_start <= local.hour < prefs.work_end


def next_working_time(now: datetime, tz: str | None, prefs: Prefs) -> datetime:
    """``now`` when the person is working, else the start of their next working hours (in UTC terms)."""
    if is_working(now, tz, prefs) or not prefs.work_days:
        return now
    z = zone(tz)
    local = now.astimezone(z)
    for day in range(0, 8):
        d = (local + timedelta(days=day)).date()
        start = datetime(d.year, d.month, d.day, prefs.work_start, tzinfo=z)
        if start.isoweekday() in prefs.work_days and start > now:
            return start.astimezone(now.tzinfo)
    return now


def local_time(now: datetime, tz: str | None) -> str:
    z = zone(tz)
    return f"{now.astimezone(z):%H:%M} in {z.key}"
