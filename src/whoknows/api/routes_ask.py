"""Asking and looking people up: ``/ask``, ``/route``, ``/people/{ref}``, ``/people/{ref}/profile``, analytics.

Each route answers as the caller: the core functions filter by the spaces the caller's person may read.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from whoknows.access import Viewer
from whoknows.api.deps import Reader, State
from whoknows.derive import expertise_path

router = APIRouter(tags=["ask"])

Question = Annotated[str, Field(min_length=1, max_length=10_000, description="The question, in your own words.")]


class AskIn(BaseModel):
    question: Question
    k: int = Field(default=5, ge=1, le=50, description="How many solutions, and how many experts.")


class RouteIn(BaseModel):
    question: Question
    always: bool = Field(default=False, description="Route even if memory answers (it did not help).")
    k: int = Field(default=3, ge=1, le=20, description="How many experts to ask.")
    urgency: Literal["now", "today", "this week"] = Field(
        default="today", description="How long the question may wait for a better expert's working day."
    )


@router.post("/ask")
def ask(body: AskIn, state: State, me: Reader) -> dict[str, Any]:
    """Answers from the corporate memory (with citations) and the colleagues most likely to know (with evidence
    and availability: local time, working now, out of office until, whether they take routed questions)."""
    from whoknows.expertise import ExpertiseError, ExpertResult, find_experts
    from whoknows.routing.availability import availability

    memory = state.memory().ask(body.question, me, k=body.k)
    try:
        experts = find_experts(state.store, body.question, me, k=body.k, path=expertise_path(state.data_dir))
    except ExpertiseError as exc:  # memory's answer is still worth giving; say why there are no experts
        reason = f"{exc.message} ({exc.code})"
        # e.g. a model from an older version, or another database's copied here: rebuilt from this database
        if exc.code in ("expertise.missing", "expertise.corrupt", "expertise.wrong_database"):
            state.rebuild_expertise_soon()
            reason = "the expertise model is being rebuilt; experts will appear in a few minutes"
        experts = ExpertResult(body.question, [], reason=reason, asker_id=me.person_id)
    out = experts.as_dict()
    free = availability(state.store, [e.person_id for e in experts.experts])
    for e in out["experts"]:
        e["availability"] = free.get(int(e["person_id"]))
    return {"question": body.question, "memory": memory.as_dict(), "experts": out}


@router.post("/route")
def route(body: RouteIn, state: State, me: Reader) -> dict[str, Any]:
    """Memory first; when it is not enough (or ``always``), ask experts chosen by the routing policy."""
    from whoknows.index import SearchIndexError
    from whoknows.routing import ask_or_route

    try:  # the server's warm index handle (the flow would open the index again for this one question)
        memory: dict[str, Any] | None = state.memory().ask(body.question, me, k=3).as_dict()
    except SearchIndexError:
        memory = None  # the flow reports the index problem as a warning and routes anyway
    result = ask_or_route(
        state.store,
        state.data_dir,
        body.question,
        _person(me),
        route="always" if body.always else "auto",
        k=body.k,
        settings=state.settings,
        memory=memory,
        urgency=body.urgency,
    )
    return result.as_dict()


@router.get("/people/{ref}")
def person(ref: str, state: State, me: Reader) -> dict[str, Any]:
    """A colleague's directory entry (by #id, e-mail, @handle or full name): people the organisation lists, and
    people seen in spaces the caller may read; anyone else answers exactly as an unknown person."""
    p = state.store.find_person(ref, me)
    return {
        "id": p.id,
        "name": p.name,
        "department": p.department,
        "team": p.team,
        "role": p.role,
        "timezone": p.timezone,
        "opted_out": p.opted_out,
    }


@router.get("/people/{ref}/profile")
def person_profile(ref: str, state: State, me: Reader) -> dict[str, Any]:
    """What whoknows thinks the person knows, with evidence from spaces the caller may read."""
    from whoknows.expertise import profile

    return profile(state.store, ref, me, path=expertise_path(state.data_dir)).as_dict()


@router.get("/analytics/report")
def analytics_report(
    state: State,
    me: Reader,
    months: Annotated[int, Query(ge=1, le=120, description="Length of the period, up to the newest data.")] = 6,
    scope: Annotated[
        Literal["mine", "organisation"],
        Query(description="mine: spaces you may read; organisation: every space (analyst or admin)."),
    ] = "mine",
) -> dict[str, Any]:
    """Collaboration analytics; the privacy rules (minimum group size, individual views) are the core's."""
    from whoknows.analytics import build_report

    report = build_report(state.store, me, organisation=scope == "organisation", months=months, settings=state.settings)
    return report.as_dict()


def _person(me: Viewer) -> int:
    assert me.person_id is not None  # every caller signs in as a person
    return me.person_id
