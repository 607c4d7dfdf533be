"""Feeding routing outcomes back into the expertise model (self-learning, no retraining by hand).

Outcomes are rows (``route_outcomes``) written in the same transaction as the answer, decline or acceptance;
:func:`apply_outcomes` hands the ones not applied yet to :func:`whoknows.expertise.refit` and marks them applied.
When the model is missing they stay pending and are applied by a later call (the worker tries every round).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, insert, select, update

from whoknows.background import SingleFlight
from whoknows.store import Store, schema


def record_outcome(conn: Connection, question_id: int, person_id: int, outcome: str, now: datetime) -> None:
    conn.execute(
        insert(schema.route_outcomes).values(
            question_id=question_id, person_id=person_id, outcome=outcome, created_at=now
        )
    )


def apply_outcomes(store: Store, data_dir: Path) -> int:
    """Refit the expertise model with the outcomes not applied yet; returns how many were applied.

    One refit at a time across threads and processes (the server, the worker, the CLI), and never while the model
    is being rebuilt: it runs under the data dir's derive lock (:func:`whoknows.derive.derive_lock`), and reads the
    model fresh from disk inside it. (A refit that had read the previous model and wrote its weights into a
    rebuilt one — with another feature set, e.g. after an import added a source type — broke expert finding.)"""
    from whoknows.derive import derive_lock

    with derive_lock(data_dir):
        return _apply(store, data_dir)


def _apply(store: Store, data_dir: Path) -> int:
    from whoknows.derive import expertise_path
    from whoknows.expertise import ExpertiseError, Outcome, refit
    from whoknows.expertise.bundle import ExpertiseModel

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
        # Not the per-process cache: the files as they are. Another database's model is not refitted (refused).
        model = ExpertiseModel.open(expertise_path(data_dir), database_id=store.database_id)
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


class BackgroundLearner(SingleFlight):
    """Applies outcomes off the request path (the server): :meth:`kick` starts one background refit, or, when one
    is running, makes it run once more afterwards — so a burst of answers and acceptances costs a refit or two,
    and the person clicking "accept" does not wait for it. The outcomes are already stored; a refit that fails
    leaves them pending for the next kick or the worker."""

    def __init__(self, store: Store, data_dir: Path) -> None:
        self.store, self.data_dir = store, data_dir
        self.applied = 0
        super().__init__("whoknows-learn", self._apply_pending, again=True)

    def _apply_pending(self) -> None:
        self.applied += apply_outcomes(self.store, self.data_dir)


def _ts(value: datetime) -> float:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
