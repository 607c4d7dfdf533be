"""When an expert can be interrupted: out-of-office and working hours in their own time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Select, bindparam, select

from whoknows.routing.prefs import Prefs, prefs_from_row
from whoknows.store import Store, schema
from whoknows.store.chunking import in_chunks


@lru_cache(maxsize=1024)
def zone(name: str | None) -> ZoneInfo:
    """The person's time zone (``people.timezone``); UTC when unknown or invalid. Remembered: ``ZoneInfo`` keeps
    only the last few zones it built strongly and otherwise reads the zone file again (every ``/ask``)."""
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


def availability(store: Store, person_ids: list[int], now: datetime | None = None) -> dict[int, dict[str, Any]]:
    """What an asker may know about when colleagues can help, per person: their local time, whether it is within
    their working hours, out-of-office until when, and whether they take routed questions. (Their own settings;
    the reasons behind them are not shown.)"""
    now = now or datetime.now(UTC)
    ids = sorted(set(person_ids))
    if not ids:
        return {}
    found: dict[int, tuple[Prefs, str | None]] = {}
    with store.read() as conn:  # one read of people and their preferences (once per /ask: kept to one statement)
        for part in in_chunks(ids):
            for r in conn.execute(_PEOPLE_PREFS, {"ids": list(part)}):
                prefs = prefs_from_row(r) if r.person_id is not None else Prefs(int(r.id))
                found[int(r.id)] = (prefs, r.timezone)
    return {pid: availability_of(*found.get(pid, (Prefs(pid), None)), now) for pid in ids}


def _people_prefs() -> Select[Any]:
    p, ep = schema.people, schema.expert_prefs
    ids: Any = bindparam("ids", expanding=True)
    return (
        select(p.c.id, p.c.timezone, *ep.c)
        .select_from(p.outerjoin(ep, ep.c.person_id == p.c.id))
        .where(p.c.id.in_(ids))
    )


_PEOPLE_PREFS = _people_prefs()


def availability_of(prefs: Prefs, tz: str | None, now: datetime) -> dict[str, Any]:
    """One person's availability (see :func:`availability`) from their preferences and time zone."""
    ooo = prefs.current_ooo(now)
    return {
        "local_time": local_time(now, tz),
        "working_now": is_working(now, tz, prefs),
        "out_of_office_until": ooo.isoformat() if ooo is not None else None,
        "takes_routed_questions": not prefs.routing_opt_out,
    }
