"""``ask_or_route``: answer from memory first; when memory is not enough, route the question to experts.

Memory is enough when its best solution's confidence reaches ``settings.routing_threshold`` (and the asker did
not say it did not help: ``route="always"``). Otherwise a routed question is stored with memory's draft answer
and citations, the expertise ranker's candidates (kept for escalation), and the first experts chosen by the
policy (:mod:`whoknows.routing.policy`); their notifications go into the outbox in the same transaction, so the
worker sends them even if this process dies right after. The result tells the asker who was asked and why, and
who was not and why.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import insert, select

from whoknows.access import Viewer
from whoknows.errors import NotFoundError
from whoknows.index.analyzer import analyze_query
from whoknows.routing.assign import assign
from whoknows.routing.errors import RoutingError, RoutingNotFound
from whoknows.routing.policy import URGENCY, Mode, Urgency
from whoknows.settings import Settings
from whoknows.store import Store, schema

RouteMode = Literal["auto", "always", "never"]
#: How many ranked candidates are kept on the question for later escalation rounds.
CANDIDATES_KEPT = 30


@dataclass
class RouteResult:
    question: str
    asker_id: int
    confidence: float
    routed: bool
    reason: str
    memory: dict[str, Any] = field(default_factory=dict)
    question_id: int | None = None
    asked: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_person(store: Store, person_id: int, role: str = "asker") -> str:
    try:
        return store.get_person(person_id).name
    except NotFoundError:
        raise RoutingNotFound(
            f"unknown {role}: no person #{person_id} (erased or merged into someone else?)",
            code=f"routing.unknown_{role}",
        ) from None


def ask_memory(store: Store, data_dir: Path, question: str, asker: Viewer) -> tuple[dict[str, Any], list[str]]:
    from whoknows.index import SearchIndexError
    from whoknows.memory.ask import ask

    try:
        return ask(store, data_dir, question, asker, k=3).as_dict(), []
    except SearchIndexError as exc:
        return {"confidence": 0.0, "solutions": []}, [f"memory not searched: {exc.message}"]


def rank_experts(store: Store, data_dir: Path, question: str, asker: Viewer) -> list[dict[str, Any]]:
    """The expertise ranker's candidates as plain dicts (person_id, name, score, why)."""
    from whoknows.derive import expertise_path
    from whoknows.expertise import ExpertiseError, find_experts

    try:
        result = find_experts(store, question, asker, k=CANDIDATES_KEPT, path=expertise_path(data_dir))
    except ExpertiseError as exc:
        raise RoutingError(f"cannot rank experts: {exc.message}", code="routing.no_expertise") from None
    return [
        {
            "person_id": e.person_id,
            "name": e.name,
            "score": round(e.score, 4),
            "why": [f"{'; '.join(ev.why)}: “{ev.snippet[:80]}”" for ev in e.evidence[:1]],
        }
        for e in result.experts
    ]


def ask_or_route(
    store: Store,
    data_dir: Path,
    question: str,
    asker_id: int,
    *,
    route: RouteMode = "auto",
    k: int = 3,
    settings: Settings | None = None,
    now: datetime | None = None,
    mode: Mode = "balanced",
    memory: dict[str, Any] | None = None,
    candidates: list[dict[str, Any]] | None = None,
    urgency: Urgency = "today",
) -> RouteResult:
    """Answer ``question`` from memory, and route it to ``k`` experts when memory is not enough (see module doc).

    ``memory`` and ``candidates`` may be given precomputed (the benchmark does); otherwise they come from the
    memory index and the expertise model under ``data_dir``. ``urgency`` ("now", "today", "this week") says how
    long the question may wait for a better expert's working day (:data:`whoknows.routing.policy.URGENCY`).
    """
    settings = settings or Settings()
    now = now or datetime.now(UTC)
    if not question.strip():
        raise RoutingError("the question is empty", code="routing.empty_question")
    if k < 1:
        raise RoutingError("k must be at least 1", code="routing.bad_k")
    if urgency not in URGENCY:
        raise RoutingError(f"unknown urgency {urgency!r}: one of {', '.join(URGENCY)}", code="routing.bad_urgency")
    check_person(store, asker_id)
    asker = store.viewer(asker_id)
    warnings: list[str] = []
    if memory is None:
        memory, warnings = ask_memory(store, data_dir, question, asker)
    confidence = float(memory.get("confidence", 0.0))
    result = RouteResult(question, asker_id, confidence, False, "", memory=memory, warnings=warnings)
    if route == "never" or (route == "auto" and confidence >= settings.routing_threshold):
        result.reason = (
            f"memory answered with confidence {confidence:.2f} (threshold {settings.routing_threshold:.2f})"
            if route == "auto"
            else "routing was not asked for"
        )
        return result
    result.reason = (
        "you said memory's answer did not help"
        if route == "always"
        else f"memory's confidence {confidence:.2f} is below the threshold {settings.routing_threshold:.2f}"
    )
    if candidates is None:
        candidates = rank_experts(store, data_dir, question, asker)
    solutions = memory.get("solutions", [])
    draft = {
        "answer": solutions[0]["solution"] if solutions else None,
        "citations": [
            {
                "question_id": s["question_id"],
                "link": s.get("link"),
                "solved_by": (s.get("solved_by") or {}).get("name"),
            }
            for s in solutions[:3]
        ],
        "candidates": candidates[:CANDIDATES_KEPT],
        "urgency": urgency,
    }
    rq = schema.routed_questions
    with store.write() as conn:
        qid = int(
            conn.execute(
                insert(rq)
                .values(
                    asker_id=asker_id,
                    text=question,
                    draft=draft,
                    confidence=confidence,
                    topic_terms=sorted(set(analyze_query(question)))[:50],
                    status="open",
                    k=k,
                    created_at=now,
                    updated_at=now,
                )
                .returning(rq.c.id)
            ).scalar_one()
        )
        row = conn.execute(select(rq).where(rq.c.id == qid)).one()
        selection = assign(conn, settings, row, attempt=1, now=now, k=k, mode=mode)
        asked = assignments_of(conn, qid)
    result.routed, result.question_id, result.skipped = True, qid, selection.skipped
    can = settings.delivery_channels()
    for a in asked:  # what the request really reaches, never a channel that cannot deliver
        a["reaches"] = a["channel"] if a["channel"] in can or a["channel"] == "webhook" else "inbox"
    result.asked = asked
    if not asked:
        result.warnings.append(
            "nobody could be asked: "
            + (
                "; ".join(f"{s['name']} {s['why']}" for s in selection.skipped[:5])
                or "no colleague has written about this"
            )
        )
    return result


def assignments_of(conn: Any, question_id: int) -> list[dict[str, Any]]:
    ra, p = schema.route_assignments, schema.people
    return [
        {
            "assignment_id": int(r.id),
            "person_id": int(r.expert_id),
            "name": r.name,
            "state": r.state,
            "attempt": int(r.attempt),
            "channel": r.channel,
            "notify_at": _iso(r.notified_at),
            "due_at": _iso(r.due_at),
            "reasons": list(r.reason or []),
        }
        for r in conn.execute(
            select(ra, p.c.name)
            .join(p, p.c.id == ra.c.expert_id)
            .where(ra.c.question_id == question_id)
            .order_by(ra.c.id)
        )
    ]


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
