"""Expert preferences: channels, digest, weekly interruption budget, out-of-office, working hours, opt-outs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from whoknows.errors import InputError
from whoknows.store import Store, schema
from whoknows.store.chunking import in_chunks

CHANNELS = ("email", "slack", "webhook")
DIGESTS = ("immediate", "daily")


@dataclass
class Prefs:
    person_id: int
    channels: list[str] = field(default_factory=lambda: ["email"])
    digest: str = "immediate"
    weekly_budget: int | None = None  # None: the installation's default (settings.routing_weekly_budget)
    ooo_until: datetime | None = None
    work_start: int = 9
    work_end: int = 18
    work_days: list[int] = field(default_factory=lambda: [1, 2, 3, 4, 5])  # ISO weekdays
    hidden_topics: list[str] = field(default_factory=list)
    routing_opt_out: bool = False
    email: str | None = None
    slack_user: str | None = None
    webhook_url: str | None = None

    def current_ooo(self, now: datetime) -> datetime | None:
        """The out-of-office end if it is still ahead of ``now`` (a past one no longer counts)."""
        return self.ooo_until if self.ooo_until is not None and self.ooo_until > now else None

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ooo_until"] = self.ooo_until.isoformat() if self.ooo_until else None
        return d


def prefs_from_row(row: Any) -> Prefs:
    ooo = row.ooo_until
    if ooo is not None and ooo.tzinfo is None:
        ooo = ooo.replace(tzinfo=UTC)
    return Prefs(
        person_id=int(row.person_id),
        channels=list(row.channels or ["email"]),
        digest=row.digest,
        weekly_budget=row.weekly_budget,
        ooo_until=ooo,
        work_start=int(row.work_start),
        work_end=int(row.work_end),
        work_days=list(row.work_days or [1, 2, 3, 4, 5]),
        hidden_topics=list(row.hidden_topics or []),
        routing_opt_out=bool(row.routing_opt_out),
        email=row.email,
        slack_user=row.slack_user,
        webhook_url=row.webhook_url,
    )


def load_prefs(conn: Connection, person_ids: list[int]) -> dict[int, Prefs]:
    """Preferences of ``person_ids``; people who never set any get the defaults."""
    ep = schema.expert_prefs
    found: dict[int, Prefs] = {}
    ids = sorted(set(person_ids))
    for part in in_chunks(ids):
        for row in conn.execute(select(ep).where(ep.c.person_id.in_(part))):
            found[int(row.person_id)] = prefs_from_row(row)
    return {pid: found.get(pid) or Prefs(pid) for pid in ids}


def get_prefs(store: Store, person_id: int) -> Prefs:
    with store.read() as conn:
        return load_prefs(conn, [person_id])[person_id]


#: Preferences that may be cleared (set back to "none"): out-of-office, the personal budget, addresses.
CLEARABLE = ("ooo_until", "weekly_budget", "email", "slack_user", "webhook_url")


def set_prefs(store: Store, person_id: int, *, clear: Sequence[str] = (), **changes: Any) -> Prefs:
    """Change some preferences of one person (``None`` values are left alone; the fields named in ``clear`` are
    reset to none, e.g. ``clear=["ooo_until"]`` ends an out-of-office); returns the result."""
    bad = set(clear) - set(CLEARABLE)
    if bad:
        raise InputError(
            f"cannot clear {', '.join(sorted(bad))}; only {', '.join(CLEARABLE)}", code="routing.bad_prefs"
        )
    changes = {k: v for k, v in changes.items() if v is not None}
    changes.update({k: None for k in clear})
    unknown = set(changes) - set(Prefs.__dataclass_fields__) - {"person_id"}
    if unknown:
        raise InputError(f"unknown preference(s): {', '.join(sorted(unknown))}", code="routing.bad_prefs")
    for ch in changes.get("channels", []):
        if ch not in CHANNELS:
            raise InputError(f"unknown channel {ch!r}; use one of {', '.join(CHANNELS)}", code="routing.bad_prefs")
    if changes.get("digest", "immediate") not in DIGESTS:
        raise InputError(f"digest must be one of {', '.join(DIGESTS)}", code="routing.bad_prefs")
    if (changes.get("weekly_budget") or 0) < 0:
        raise InputError("the weekly budget cannot be negative", code="routing.bad_prefs")
    start, end = changes.get("work_start", 9), changes.get("work_end", 18)
    if not (0 <= start < 24 and 0 < end <= 24):
        raise InputError("working hours are local hours 0-24", code="routing.bad_prefs")
    ep = schema.expert_prefs
    with store.write() as conn:
        current = load_prefs(conn, [person_id])[person_id]
        merged = Prefs(**{**asdict(current), **changes})
        if merged.work_start >= merged.work_end:
            raise InputError(
                f"working hours must start before they end (start {merged.work_start}, end {merged.work_end}; "
                "local hours, same day)",
                code="routing.bad_prefs",
            )
        if not all(1 <= d <= 7 for d in merged.work_days):
            raise InputError("working days are ISO weekdays 1 (Monday) to 7 (Sunday)", code="routing.bad_prefs")
        values = merged.as_dict()
        values["ooo_until"] = merged.ooo_until
        values["updated_at"] = datetime.now(UTC)
        exists = conn.execute(select(ep.c.person_id).where(ep.c.person_id == person_id)).first()
        if exists:
            conn.execute(update(ep).where(ep.c.person_id == person_id).values(values))
        else:
            conn.execute(insert(ep).values(values))
    return merged
