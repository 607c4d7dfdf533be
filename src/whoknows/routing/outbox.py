"""The notification outbox: rows written in the same transaction as the routing decision, sent by the worker.

Each row has a unique ``idempotency_key`` (``request:<assignment>``, ``answer:<answer>``, ``digest:<person>:<day>``)
so enqueueing twice is a no-op. A worker *claims* due rows with one conditional ``UPDATE … RETURNING`` (status
``pending`` and due, or ``sending`` whose lease ran out because a worker died), sends, and marks them ``sent``; a
failure schedules a retry with exponential backoff (30 s, 1 min, 2 min … capped at 1 h) until ``max_attempts``,
then the row is ``failed`` with the last error kept. Rows of people on a daily digest are ``held`` until their
next digest time and then sent together as one message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, insert, or_, select, update

from whoknows.store import Store, schema

LEASE = timedelta(minutes=2)
BACKOFF_BASE_S = 30.0
BACKOFF_CAP_S = 3600.0


@dataclass
class OutboxRow:
    id: int
    idempotency_key: str
    person_id: int
    assignment_id: int | None
    channel: str
    kind: str
    payload: dict[str, Any]
    attempts: int


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after ``attempts`` failed ones."""
    return timedelta(seconds=min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** max(0, attempts - 1)))


def enqueue(
    conn: Connection,
    *,
    key: str,
    person_id: int,
    channel: str,
    kind: str,
    payload: dict[str, Any],
    at: datetime,
    assignment_id: int | None = None,
    held: bool = False,
) -> bool:
    """Add a notification unless one with ``key`` exists. Returns whether a row was added."""
    ob = schema.notification_outbox
    if conn.execute(select(ob.c.id).where(ob.c.idempotency_key == key)).first() is not None:
        return False
    conn.execute(
        insert(ob).values(
            idempotency_key=key,
            person_id=person_id,
            assignment_id=assignment_id,
            channel=channel,
            kind=kind,
            payload=payload,
            status="held" if held else "pending",
            attempts=0,
            next_attempt_at=at,
            created_at=datetime.now(UTC),
        )
    )
    return True


def claim(store: Store, now: datetime, *, limit: int = 50, lease: timedelta = LEASE) -> list[OutboxRow]:
    """Atomically take up to ``limit`` due notifications for this worker (see the module doc)."""
    ob = schema.notification_outbox
    due = or_(
        and_(ob.c.status == "pending", ob.c.next_attempt_at <= now),
        and_(ob.c.status == "sending", ob.c.claimed_until < now),
    )
    with store.write() as conn:
        ids_q = select(ob.c.id).where(due).order_by(ob.c.next_attempt_at, ob.c.id).limit(limit)
        if store.backend == "postgresql":
            ids_q = ids_q.with_for_update(skip_locked=True)
        ids = list(conn.execute(ids_q).scalars())
        if not ids:
            return []
        rows = conn.execute(
            update(ob)
            .where(ob.c.id.in_(ids), due)
            .values(status="sending", claimed_until=now + lease, attempts=ob.c.attempts + 1)
            .returning(
                ob.c.id,
                ob.c.idempotency_key,
                ob.c.person_id,
                ob.c.assignment_id,
                ob.c.channel,
                ob.c.kind,
                ob.c.payload,
                ob.c.attempts,
            )
        ).all()
    out = [OutboxRow(int(r[0]), r[1], int(r[2]), r[3], r[4], r[5], dict(r[6] or {}), int(r[7])) for r in rows]
    return sorted(out, key=lambda r: r.id)


def mark_sent(store: Store, ids: list[int], now: datetime) -> None:
    ob = schema.notification_outbox
    with store.write() as conn:
        conn.execute(
            update(ob).where(ob.c.id.in_(ids)).values(status="sent", sent_at=now, claimed_until=None, last_error=None)
        )


def mark_failed(store: Store, row: OutboxRow, error: str, now: datetime, max_attempts: int) -> str:
    """Record a failed try: retry later with backoff, or give up after ``max_attempts``. Returns the new status."""
    ob = schema.notification_outbox
    status = "failed" if row.attempts >= max_attempts else "pending"
    with store.write() as conn:
        conn.execute(
            update(ob)
            .where(ob.c.id == row.id)
            .values(
                status=status, last_error=error[:2000], claimed_until=None, next_attempt_at=now + backoff(row.attempts)
            )
        )
    return status


def release_digests(store: Store, now: datetime) -> int:
    """Turn each person's due ``held`` notifications into one digest row; returns how many digests were made."""
    ob = schema.notification_outbox
    made = 0
    with store.write() as conn:
        rows = conn.execute(
            select(ob.c.id, ob.c.person_id, ob.c.channel, ob.c.payload)
            .where(ob.c.status == "held", ob.c.next_attempt_at <= now)
            .order_by(ob.c.person_id, ob.c.id)
        ).all()
        per: dict[int, list[Any]] = {}
        for r in rows:
            per.setdefault(int(r.person_id), []).append(r)
        for pid, items in per.items():
            key = f"digest:{pid}:{now:%Y-%m-%d}:{items[0].id}"
            payload = {"items": [dict(i.payload) for i in items], "to": items[0].payload.get("to", {})}
            enqueue(conn, key=key, person_id=pid, channel=items[0].channel, kind="digest", payload=payload, at=now)
            conn.execute(update(ob).where(ob.c.id.in_([i.id for i in items])).values(status="batched", sent_at=now))
            made += 1
    return made


def counts(store: Store) -> dict[str, int]:
    ob = schema.notification_outbox
    from sqlalchemy import func

    with store.read() as conn:
        return {str(s): int(n) for s, n in conn.execute(select(ob.c.status, func.count()).group_by(ob.c.status))}
