"""The routing worker: processes due work from the database, so nothing depends on a process staying alive.

One round (:func:`run_once`):

1. **expire** assignments past ``due_at`` (``UPDATE … SET state='expired' WHERE state='notified'``: a row is
   expired by exactly one worker);
2. **escalate** open questions with nobody left waiting to answer (expired, declined, or the expert left:
   erased or merged away) to the next experts from the stored ranking; with nobody left the question is
   ``expired`` and the asker told;
3. **digests**: held notifications of people on a daily digest become one message at their digest time;
4. **send** due outbox rows (claimed atomically with a lease; a killed worker's claims are retaken when the
   lease runs out), retrying failures with exponential backoff;
5. **learn**: apply recorded outcomes to the expertise model.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import and_, exists, select, update

from whoknows.routing.actions import _locked
from whoknows.routing.assign import addresses, assign
from whoknows.routing.channels import Channel, build_channels, render
from whoknows.routing.errors import ChannelError
from whoknows.routing.learning import apply_outcomes
from whoknows.routing.outbox import claim, enqueue, mark_failed, mark_sent, release_digests
from whoknows.routing.prefs import load_prefs
from whoknows.settings import Settings
from whoknows.store import Store, schema


@dataclass
class RoundStats:
    expired: int = 0
    escalated: int = 0
    gave_up: int = 0
    digests: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    learned: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def busy(self) -> bool:
        return bool(self.expired or self.escalated or self.sent or self.digests or self.gave_up)


def expire_due(store: Store, now: datetime) -> int:
    ra = schema.route_assignments
    with store.write() as conn:
        return int(
            conn.execute(
                update(ra).where(ra.c.state == "notified", ra.c.due_at <= now).values(state="expired", updated_at=now)
            ).rowcount
        )


def escalate_stalled(store: Store, settings: Settings, now: datetime) -> tuple[int, int]:
    """Ask the next experts for open questions nobody is working on; returns (escalated, gave up)."""
    rq, ra = schema.routed_questions, schema.route_assignments
    waiting = exists().where(and_(ra.c.question_id == rq.c.id, ra.c.state == "notified"))
    with store.read() as conn:
        ids = list(conn.execute(select(rq.c.id).where(rq.c.status == "open", ~waiting).order_by(rq.c.id)).scalars())
    escalated = gave_up = 0
    for qid in ids:
        with store.write() as conn:
            q = _locked(conn, qid)
            still = conn.execute(select(ra.c.id).where(ra.c.question_id == qid, ra.c.state == "notified")).first()
            if q.status != "open" or still is not None:
                continue  # another worker got there first
            attempt = int(
                conn.execute(select(ra.c.attempt).where(ra.c.question_id == qid).order_by(ra.c.attempt.desc())).scalar()
                or 0
            )
            selection = assign(conn, settings, q, attempt=attempt + 1, now=now, k=int(q.k))
            if selection.picks:
                escalated += 1
                continue
            conn.execute(update(rq).where(rq.c.id == qid).values(status="expired", updated_at=now))
            prefs = load_prefs(conn, [int(q.asker_id)])[int(q.asker_id)]
            enqueue(
                conn,
                key=f"expired:{qid}",
                person_id=int(q.asker_id),
                channel=prefs.channels[0] if prefs.channels else "email",
                kind="expired",
                payload={"to": addresses(conn, int(q.asker_id), prefs), "question": q.text, "question_id": qid},
                at=now,
            )
            gave_up += 1
    return escalated, gave_up


def send_due(
    store: Store,
    settings: Settings,
    channels: Mapping[str, Channel],
    now: datetime,
    stats: RoundStats,
    *,
    limit: int = 50,
) -> None:
    for row in claim(store, now, limit=limit):
        note = render(row.kind, row.payload, row.idempotency_key)
        channel = channels.get(row.channel)
        try:
            if channel is None:
                raise ChannelError(f"channel {row.channel!r} is not configured", code="routing.channel_off")
            channel.send(note)
        except ChannelError as exc:
            status = mark_failed(store, row, exc.message, now, settings.routing_max_attempts)
            if status == "failed":
                stats.failed += 1
            else:
                stats.retried += 1
            stats.errors.append(f"{row.idempotency_key}: {exc.message}")
            continue
        mark_sent(store, [row.id], datetime.now(UTC))
        stats.sent += 1


def run_once(
    store: Store,
    settings: Settings,
    data_dir: Path,
    *,
    channels: Mapping[str, Channel] | None = None,
    now: datetime | None = None,
    learn: bool = True,
) -> RoundStats:
    now = now or datetime.now(UTC)
    channels = channels if channels is not None else build_channels(settings)
    stats = RoundStats()
    stats.expired = expire_due(store, now)
    stats.escalated, stats.gave_up = escalate_stalled(store, settings, now)
    stats.digests = release_digests(store, now)
    send_due(store, settings, channels, now, stats)
    if learn:
        stats.learned = apply_outcomes(store, data_dir)
    return stats


def run_forever(
    store: Store,
    settings: Settings,
    data_dir: Path,
    *,
    interval: float = 5.0,
    on_round: Callable[[RoundStats], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> None:
    channels = build_channels(settings)
    while not should_stop():
        stats = run_once(store, settings, data_dir, channels=channels)
        if on_round is not None:
            on_round(stats)
        if not stats.busy():
            time.sleep(interval)
