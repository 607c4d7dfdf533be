"""What people do with a routed question: answer, decline, forward (experts), accept and rate (the asker).

Each action changes state with one conditional ``UPDATE … WHERE state = …`` so a double click, a retried
Slack callback or two devices cannot answer, decline or accept twice. Answers are captured into memory
(:mod:`whoknows.routing.capture`); outcomes are recorded for learning (:mod:`whoknows.routing.learning`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select, update

from whoknows.access import Viewer
from whoknows.routing.assign import addresses, assign, visible_draft
from whoknows.routing.capture import (
    SHARES,
    answering_experts,
    mark_accepted,
    refresh_memory,
    share_answer,
    store_answer,
    unshare_answer,
)
from whoknows.routing.errors import RoutingError, RoutingNotFound, RoutingStateError
from whoknows.routing.flow import assignments_of, check_person
from whoknows.routing.learning import apply_outcomes, record_outcome
from whoknows.routing.outbox import enqueue
from whoknows.routing.prefs import load_prefs
from whoknows.settings import Settings
from whoknows.store import Store, schema
from whoknows.store.chunking import in_chunks

ANSWERABLE = ("notified", "expired")
MAX_ANSWER_CHARS = 50_000


def _assignment(conn: Connection, assignment_id: int, actor_id: int) -> tuple[Any, Any]:
    ra, rq = schema.route_assignments, schema.routed_questions
    a = conn.execute(select(ra).where(ra.c.id == assignment_id)).first()
    if a is None or int(a.expert_id) != actor_id:  # someone else's: the same answer as none, so ids tell nothing
        raise RoutingNotFound(f"no routed assignment #{assignment_id}", code="routing.assignment_not_found")
    q = conn.execute(select(rq).where(rq.c.id == a.question_id)).one()
    return a, q


def _transition(conn: Connection, assignment_id: int, from_states: tuple[str, ...], to: str, now: datetime) -> None:
    ra = schema.route_assignments
    done = conn.execute(
        update(ra).where(ra.c.id == assignment_id, ra.c.state.in_(from_states)).values(state=to, updated_at=now)
    ).rowcount
    if not done:
        state = conn.execute(select(ra.c.state).where(ra.c.id == assignment_id)).scalar()
        raise RoutingStateError(f"assignment #{assignment_id} is already {state}", code="routing.already_done")


def _drop_pending(conn: Connection, assignment_ids: list[int]) -> None:
    ob = schema.notification_outbox
    if assignment_ids:
        conn.execute(
            update(ob)
            .where(ob.c.assignment_id.in_(assignment_ids), ob.c.status.in_(("pending", "held")))
            .values(status="dropped")
        )


def answer(
    store: Store,
    data_dir: Path,
    assignment_id: int,
    text: str,
    actor_id: int,
    *,
    channel: str = "cli",
    settings: Settings | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Record an expert's answer, store it in memory (credited to them), tell the asker, close other requests."""
    now = now or datetime.now(UTC)
    text = (text or "").strip()
    if not text:
        raise RoutingError("the answer is empty", code="routing.empty_answer")
    if len(text) > MAX_ANSWER_CHARS:
        raise RoutingError(f"the answer is longer than {MAX_ANSWER_CHARS:,} characters", code="routing.too_long")
    ra, rq, ans = schema.route_assignments, schema.routed_questions, schema.route_answers
    with store.write() as conn:
        _a, q = _assignment(conn, assignment_id, actor_id)
        _transition(conn, assignment_id, ANSWERABLE, "answered", now)
        message_id, thread_id = store_answer(conn, q, actor_id, text, f"a{assignment_id}", now)
        answer_id = int(
            conn.execute(
                ans.insert()
                .values(
                    question_id=q.id,
                    assignment_id=assignment_id,
                    expert_id=actor_id,
                    text=text,
                    channel=channel,
                    message_id=message_id,
                    created_at=now,
                )
                .returning(ans.c.id)
            ).scalar_one()
        )
        others = list(conn.execute(select(ra.c.id).where(ra.c.question_id == q.id, ra.c.state == "notified")).scalars())
        if others:
            conn.execute(update(ra).where(ra.c.id.in_(others)).values(state="closed", updated_at=now))
            _drop_pending(conn, others)
        conn.execute(
            update(rq)
            .where(rq.c.id == q.id, rq.c.status.in_(("open", "expired")))
            .values(status="answered", updated_at=now)
        )
        record_outcome(conn, int(q.id), actor_id, "answered", now)
        prefs = load_prefs(conn, [int(q.asker_id)])[int(q.asker_id)]
        expert = conn.execute(select(schema.people.c.name).where(schema.people.c.id == actor_id)).scalar()
        enqueue(
            conn,
            key=f"answer:{answer_id}",
            person_id=int(q.asker_id),
            channel=prefs.channels[0] if prefs.channels else "email",
            kind="answer",
            payload={
                "to": addresses(conn, int(q.asker_id), prefs),
                "question_id": int(q.id),
                "question": q.text,
                "answer": text,
                "expert": expert,
                "answer_id": answer_id,
            },
            at=now,
        )
    memory = refresh_memory(store, data_dir, thread_id)
    return {"answer_id": answer_id, "question_id": int(q.id), "message_id": message_id, "closed": others, **memory}


def decline(
    store: Store,
    data_dir: Path,
    assignment_id: int,
    actor_id: int,
    *,
    reason: str = "not my area",
    settings: Settings | None = None,
    now: datetime | None = None,
    learn_now: bool = True,
) -> dict[str, Any]:
    """An expert declines. "not my area" teaches the model (a ``declined`` outcome); the next expert is asked."""
    settings = settings or Settings()
    now = now or datetime.now(UTC)
    with store.write() as conn:
        a, q = _assignment(conn, assignment_id, actor_id)
        _transition(conn, assignment_id, ("notified",), "declined", now)
        _drop_pending(conn, [assignment_id])
        learn = "area" in reason.lower() or "topic" in reason.lower()
        if learn:
            record_outcome(conn, int(q.id), actor_id, "declined", now)
        selection = assign(conn, settings, _locked(conn, int(q.id)), attempt=int(a.attempt) + 1, now=now, k=1)
        asked = assignments_of(conn, int(q.id))
    applied = apply_outcomes(store, data_dir) if learn and learn_now else 0
    return {
        "question_id": int(q.id),
        "learned": learn,
        "outcomes_applied": applied,
        "next": [p.name for p in selection.picks],
        "assignments": asked,
    }


def forward(
    store: Store,
    assignment_id: int,
    actor_id: int,
    colleague_id: int,
    *,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Hand an assignment to a colleague: a new assignment for them (their own preferences still apply)."""
    settings = settings or Settings()
    now = now or datetime.now(UTC)
    name = check_person(store, colleague_id, "colleague")
    if colleague_id == actor_id:
        raise RoutingError("you cannot forward a question to yourself", code="routing.forward_to_self")
    with store.write() as conn:
        a, q = _assignment(conn, assignment_id, actor_id)
        if colleague_id == int(q.asker_id):
            raise RoutingError("the colleague is the person who asked", code="routing.forward_to_asker")
        _transition(conn, assignment_id, ("notified",), "forwarded", now)
        _drop_pending(conn, [assignment_id])
        forced = [{"person_id": colleague_id, "name": name, "score": float(a.score), "why": []}]
        selection = assign(
            conn,
            settings,
            _locked(conn, int(q.id)),
            attempt=int(a.attempt),
            now=now,
            k=1,
            forced=forced,
            forwarded_by=actor_id,
        )
        if not selection.picks:
            why = selection.skipped[0]["why"] if selection.skipped else "was already asked"
            raise RoutingError(f"cannot forward to {name}: {why}", code="routing.forward_refused")
        asked = assignments_of(conn, int(q.id))
    return {"question_id": int(q.id), "forwarded_to": name, "assignments": asked}


def accept(
    store: Store,
    data_dir: Path,
    question_id: int,
    actor_id: int,
    *,
    rating: int | None = None,
    answer_id: int | None = None,
    now: datetime | None = None,
    learn_now: bool = True,
    share: str = "topic",
) -> dict[str, Any]:
    """The asker accepts an answer (the latest one by default) and may rate it 1-5; the model learns from it
    (at once, or with ``learn_now=False`` when the caller applies outcomes itself, as the server does in the
    background). A good answer (no rating, or 3 and up) is shared with ``share`` (:func:`.capture.share_answer`:
    ``topic`` by default, ``everyone`` or ``private``) so the next colleague's ``ask`` finds it."""
    now = now or datetime.now(UTC)
    if rating is not None and not 1 <= rating <= 5:
        raise RoutingError("a rating is 1 to 5", code="routing.bad_rating")
    if share not in SHARES:
        raise RoutingError(f"unknown audience {share!r}: one of {', '.join(SHARES)}", code="routing.bad_share")
    rq, ans = schema.routed_questions, schema.route_answers
    with store.write() as conn:
        q = conn.execute(select(rq).where(rq.c.id == question_id)).first()
        if q is None or int(q.asker_id) != actor_id:  # only the asker accepts; to anyone else it does not exist
            raise RoutingNotFound(f"no routed question #{question_id}", code="routing.question_not_found")
        where = [ans.c.question_id == question_id] + ([ans.c.id == answer_id] if answer_id is not None else [])
        a = conn.execute(select(ans).where(*where).order_by(ans.c.id.desc()).limit(1)).first()
        if a is None:
            raise RoutingStateError(f"question #{question_id} has no answer to accept yet", code="routing.no_answer")
        done = conn.execute(
            update(ans).where(ans.c.id == a.id, ans.c.accepted.is_(False)).values(accepted=True, rating=rating)
        ).rowcount
        if not done:
            raise RoutingStateError(f"answer #{a.id} is already accepted", code="routing.already_done")
        conn.execute(update(rq).where(rq.c.id == question_id).values(status="closed", updated_at=now))
        good = rating is None or rating >= 3
        if a.expert_id is not None:
            record_outcome(conn, question_id, int(a.expert_id), "accepted" if good else "answered", now)
        thread_id = mark_accepted(conn, int(a.message_id)) if a.message_id is not None and good else None
        keep = int(a.message_id) if a.message_id is not None else None
        shared = share_answer(conn, q, share if good else "private", now, keep_message=keep)
    memory = refresh_memory(store, data_dir, thread_id) if thread_id is not None else {}
    applied = apply_outcomes(store, data_dir) if learn_now else 0
    return {
        "question_id": question_id,
        "answer_id": int(a.id),
        "rating": rating,
        "outcomes_applied": applied,
        "shared": shared,
        **memory,
    }


def unshare(store: Store, question_id: int, actor_id: int, *, now: datetime | None = None) -> dict[str, Any]:
    """An expert who answered (or the asker) takes a shared answer back: private to asker and experts again."""
    now = now or datetime.now(UTC)
    rq = schema.routed_questions
    with store.write() as conn:
        q = conn.execute(select(rq).where(rq.c.id == question_id)).first()
        if q is None or (actor_id != int(q.asker_id) and actor_id not in answering_experts(conn, question_id)):
            raise RoutingNotFound(f"no routed question #{question_id}", code="routing.question_not_found")
        return {"question_id": question_id, **unshare_answer(conn, q, now)}


def inbox(store: Store, viewer: Viewer) -> list[dict[str, Any]]:
    """The routed questions waiting for ``viewer``'s answer."""
    person_id = viewer.person_id
    ra, rq, p = schema.route_assignments, schema.routed_questions, schema.people
    with store.read() as conn:
        rows = conn.execute(
            select(ra, rq.c.text, rq.c.draft, p.c.name.label("asker"))
            .join(rq, rq.c.id == ra.c.question_id)
            .join(p, p.c.id == rq.c.asker_id)
            .where(ra.c.expert_id == person_id, ra.c.state == "notified")
            .order_by(ra.c.due_at, ra.c.id)
        ).all()
        # Memory's draft was found as the asker: show only what the expert may read too.
        drafts = [visible_draft(conn, r.draft or {}, viewer) for r in rows]
    return [
        {
            "assignment_id": int(r.id),
            "question_id": int(r.question_id),
            "question": r.text,
            "asker": r.asker,
            "draft": draft,
            "citations": citations,
            "reasons": list(r.reason or []),
            "due_at": r.due_at.isoformat() if r.due_at else None,
        }
        for r, (draft, citations) in zip(rows, drafts, strict=True)
    ]


def my_questions(store: Store, viewer: Viewer, *, limit: int = 200) -> list[dict[str, Any]]:
    """The questions ``viewer`` routed (newest first): status, who was asked, and the answers (to accept)."""
    person_id = viewer.person_id
    rq, ra, ans, p = schema.routed_questions, schema.route_assignments, schema.route_answers, schema.people
    with store.read() as conn:
        questions = conn.execute(
            select(rq).where(rq.c.asker_id == person_id).order_by(rq.c.created_at.desc(), rq.c.id.desc()).limit(limit)
        ).all()
        ids = [int(q.id) for q in questions]
        asked: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
        answers: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
        for part in in_chunks(ids):
            for r in conn.execute(
                select(ra.c.question_id, ra.c.state, p.c.name)
                .join(p, p.c.id == ra.c.expert_id)
                .where(ra.c.question_id.in_(part))
                .order_by(ra.c.id)
            ):
                asked[int(r.question_id)].append({"name": r.name, "state": r.state})
            for r in conn.execute(
                select(ans, p.c.name.label("expert"))
                .outerjoin(p, p.c.id == ans.c.expert_id)
                .where(ans.c.question_id.in_(part))
                .order_by(ans.c.id)
            ):
                answers[int(r.question_id)].append(
                    {
                        "answer_id": int(r.id),
                        "expert": r.expert or "a former colleague",
                        "text": r.text,
                        "accepted": bool(r.accepted),
                        "rating": r.rating,
                        "created_at": r.created_at.isoformat() if r.created_at else None,
                    }
                )
        drafts = [visible_draft(conn, q.draft or {}, viewer) for q in questions]
    return [
        {
            "question_id": int(q.id),
            "question": q.text,
            "status": q.status,
            "created_at": q.created_at.isoformat() if q.created_at else None,
            "draft": draft,
            "citations": citations,
            "asked": asked[int(q.id)],
            "answers": answers[int(q.id)],
            "can_accept": any(not a["accepted"] for a in answers[int(q.id)]) and q.status != "closed",
        }
        for q, (draft, citations) in zip(questions, drafts, strict=True)
    ]


def _locked(conn: Connection, question_id: int) -> Any:
    """The question row, locked on PostgreSQL so concurrent escalations of one question serialise."""
    rq = schema.routed_questions
    stmt = select(rq).where(rq.c.id == question_id)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return conn.execute(stmt).one()
