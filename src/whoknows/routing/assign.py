"""Turning a ranked list of experts into assignments and queued notifications (first round and escalations).

The ranked candidates are kept on the routed question (``draft["candidates"]``) when it is created, so the
worker can escalate to the next people without the expertise model and the same way after a restart.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select

from whoknows.access import Viewer
from whoknows.routing.availability import zone
from whoknows.routing.outbox import enqueue
from whoknows.routing.policy import URGENCY, Candidate, Mode, Pick, Selection, choose
from whoknows.routing.prefs import Prefs, load_prefs
from whoknows.settings import Settings
from whoknows.store import schema
from whoknows.store.store import viewer_in

OPEN_STATES = ("notified",)


def load_candidates(conn: Connection, ranked: list[dict[str, Any]], now: datetime) -> list[Candidate]:
    """Candidates with their preferences, time zone and current load, for people who still exist."""
    ids = [int(c["person_id"]) for c in ranked]
    if not ids:
        return []
    p, ra = schema.people, schema.route_assignments
    people = {
        int(r.id): r
        for r in conn.execute(select(p.c.id, p.c.name, p.c.timezone, p.c.opted_out, p.c.is_bot).where(p.c.id.in_(ids)))
    }
    prefs = load_prefs(conn, ids)
    load: dict[int, int] = dict(
        conn.execute(
            select(ra.c.expert_id, func.count())
            .where(ra.c.expert_id.in_(ids), ra.c.state.in_(OPEN_STATES))
            .group_by(ra.c.expert_id)
        ).all()
    )
    week: dict[int, int] = dict(
        conn.execute(
            select(ra.c.expert_id, func.count())
            .where(ra.c.expert_id.in_(ids), ra.c.created_at >= now - timedelta(days=7))
            .group_by(ra.c.expert_id)
        ).all()
    )
    out = []
    for c in ranked:
        pid = int(c["person_id"])
        row = people.get(pid)
        if row is None or row.opted_out or row.is_bot:  # erased, merged away or opted out since ranking
            continue
        out.append(
            Candidate(
                person_id=pid,
                name=row.name,
                score=float(c["score"]),
                prefs=prefs[pid],
                timezone=row.timezone,
                open_load=int(load.get(pid, 0)),
                week_count=int(week.get(pid, 0)),
                why=list(c.get("why", [])),
            )
        )
    return out


def addresses(conn: Connection, person_id: int, prefs: Prefs) -> dict[str, str]:
    a = schema.person_aliases
    aliases = conn.execute(select(a.c.kind, a.c.value).where(a.c.person_id == person_id)).all()
    to: dict[str, str] = {}
    email = prefs.email or next((v for k, v in aliases if k == "email"), None)
    slack = prefs.slack_user or next((v.rsplit(":", 1)[-1] for k, v in aliases if k == "slack"), None)
    if email:
        to["email"] = email
    if slack:
        to["slack"] = slack
    if prefs.webhook_url:
        to["webhook"] = prefs.webhook_url
    return to


def visible_draft(conn: Connection, draft: dict[str, Any], viewer: Viewer) -> tuple[str | None, list[dict[str, Any]]]:
    """Memory's draft answer and its citations as ``viewer`` may see them.

    The draft was found with the *asker's* permissions (their private spaces included); an expert is only shown
    the citations of questions in spaces they may read themselves, and the draft answer only when its source (the
    first citation) is one of them.
    """
    citations = [c for c in draft.get("citations", []) if isinstance(c, dict)]
    ids = [int(c["question_id"]) for c in citations if c.get("question_id") is not None]
    m = schema.messages
    where = {int(i): s for i, s in conn.execute(select(m.c.id, m.c.space_id).where(m.c.id.in_(ids)))} if ids else {}
    shown = [
        c for c in citations if c.get("question_id") is not None and viewer.can_read(where.get(int(c["question_id"])))
    ]
    answer = draft.get("answer")
    if not (citations and shown and shown[0] is citations[0]):
        answer = None
    return answer, shown


def assign(
    conn: Connection,
    settings: Settings,
    question: Any,
    *,
    attempt: int,
    now: datetime,
    k: int,
    mode: Mode = "balanced",
    forced: list[dict[str, Any]] | None = None,
    forwarded_by: int | None = None,
) -> Selection:
    """Choose experts for ``question`` (a ``routed_questions`` row) not asked before, and queue their requests."""
    ra = schema.route_assignments
    asked = set(conn.execute(select(ra.c.expert_id).where(ra.c.question_id == question.id)).scalars())
    ranked = [c for c in (forced or question.draft.get("candidates", [])) if int(c["person_id"]) not in asked]
    ranked = [c for c in ranked if int(c["person_id"]) != question.asker_id]
    candidates = load_candidates(conn, ranked, now)
    if forced is not None:  # a forward: the colleague is asked whatever the ranking says, but their wishes hold
        selection = choose(candidates, k, now, margin=1.0, default_budget=10**6, mode="plain")
        for pick in selection.picks:
            pick.reasons.insert(0, "forwarded by a colleague who thought you would know")
    else:
        draft = question.draft or {}
        first = [float(c["score"]) for c in draft.get("candidates", [])]
        wait = URGENCY.get(str(draft.get("urgency", "today")), URGENCY["today"])
        selection = choose(
            candidates,
            k,
            now,
            topic_terms=set(question.topic_terms or []),
            margin=settings.routing_spread_margin,
            default_budget=settings.routing_weekly_budget,
            mode=mode,
            wait_until=now + wait,
            best_score=max(first) if first else None,
            floor=settings.routing_floor,
        )
    by_id = {c.person_id: c for c in candidates}
    for pick in selection.picks:
        _create(conn, settings, question, pick, by_id[pick.person_id], attempt, now, forwarded_by)
    return selection


def _create(
    conn: Connection,
    settings: Settings,
    question: Any,
    pick: Pick,
    cand: Candidate,
    attempt: int,
    now: datetime,
    forwarded_by: int | None,
) -> int:
    ra = schema.route_assignments
    prefs = cand.prefs
    at = pick.not_before or now
    channel = prefs.channels[0] if prefs.channels else "email"
    aid = int(
        conn.execute(
            insert(ra)
            .values(
                question_id=question.id,
                expert_id=pick.person_id,
                state="notified",
                reason=pick.reasons,
                score=pick.score,
                attempt=attempt,
                channel=channel,
                forwarded_by_id=forwarded_by,
                not_before=pick.not_before,
                notified_at=at,
                due_at=at + timedelta(hours=settings.routing_escalation_hours),
                created_at=now,
                updated_at=now,
            )
            .returning(ra.c.id)
        ).scalar_one()
    )
    asker = conn.execute(select(schema.people.c.name).where(schema.people.c.id == question.asker_id)).scalar()
    draft_answer, citations = visible_draft(conn, question.draft or {}, viewer_in(conn, pick.person_id))
    payload = {
        "to": addresses(conn, pick.person_id, prefs),
        "name": pick.name,
        "question_id": int(question.id),
        "assignment_id": aid,
        "question": question.text,
        "asker": asker,
        "draft": draft_answer,
        "citations": citations[:3],
        "reasons": pick.reasons,
        "due_at": (at + timedelta(hours=settings.routing_escalation_hours)).isoformat(),
    }
    held = prefs.digest == "daily"
    when = _next_digest(at, cand.timezone, prefs) if held else at
    enqueue(
        conn,
        key=f"request:{aid}",
        person_id=pick.person_id,
        channel=channel,
        kind="request",
        payload=payload,
        at=when,
        assignment_id=aid,
        held=held,
    )
    return aid


def _next_digest(at: datetime, tz: str | None, prefs: Prefs) -> datetime:
    """Daily digests go out at the start of the person's next working day (in their time zone)."""
    z = zone(tz)
    local = at.astimezone(z)
    for day in range(1, 9):
        d = (local + timedelta(days=day)).date()
        start = datetime(d.year, d.month, d.day, prefs.work_start, tzinfo=z)
        if start.isoweekday() in (prefs.work_days or [1, 2, 3, 4, 5]):
            return start.astimezone(UTC)
    return at
