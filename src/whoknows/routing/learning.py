"""Feeding routing outcomes back into the expertise model (self-learning, no retraining by hand).

Outcomes are rows (``route_outcomes``) written in the same transaction as the answer, decline or acceptance;
:func:`apply_outcomes` hands the ones not applied yet to :func:`whoknows.expertise.refit` and marks them applied.
When the model is missing they stay pending and are applied by a later call (the worker tries every round).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, insert, select, update

from whoknows.store import Store, schema


def record_outcome(conn: Connection, question_id: int, person_id: int, outcome: str, now: datetime) -> None:
    conn.execute(
        insert(schema.route_outcomes).values(
            question_id=question_id, person_id=person_id, outcome=outcome, created_at=now
        )
    )


def apply_outcomes(store: Store, data_dir: Path) -> int:
    """Refit the expertise model with the outcomes not applied yet; returns how many were applied."""
    from whoknows.derive import expertise_path
    from whoknows.expertise import ExpertiseError, Outcome, open_model, refit

    ro, rq = schema.route_outcomes, schema.routed_questions
    with store.read() as conn:
        rows = conn.execute(
            select(ro.c.id, ro.c.person_id, ro.c.outcome, ro.c.created_at, rq.c.text, rq.c.asker_id)
            .join(rq, rq.c.id == ro.c.question_id)
            .where(ro.c.applied_at.is_(None))
            .order_by(ro.c.id)
        ).all()
    if not rows:
        return 0
    try:
        model, _stale = open_model(store, expertise_path(data_dir))
    except ExpertiseError:
        return 0
    outcomes = [Outcome(r.text, int(r.person_id), r.outcome, r.asker_id, _ts(r.created_at)) for r in rows]
    refit(store, model, outcomes)
    with store.write() as conn:
        conn.execute(
            update(ro)
            .where(ro.c.id.in_([r.id for r in rows]), ro.c.applied_at.is_(None))
            .values(applied_at=datetime.now(UTC))
        )
    return len(rows)


def _ts(value: datetime) -> float:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
