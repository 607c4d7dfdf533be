"""The expert's side of routing (``/inbox``, ``/assignments/{id}/…``), the asker's (``/questions/{id}/accept``)
and one's own preferences (``/me/prefs``, ``/me/opt-out``). The core checks that an assignment or question is
the caller's (403 otherwise)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from whoknows.api.deps import Caller, Reader, RowId, State
from whoknows.api.pagination import Page, PageParams

router = APIRouter(tags=["routing"])


class AnswerIn(BaseModel):
    text: str = Field(min_length=1, max_length=50_000)


class DeclineIn(BaseModel):
    reason: str = Field(default="not my area", max_length=500, description="'not my area' teaches the ranker.")


class ForwardIn(BaseModel):
    colleague: str = Field(min_length=1, max_length=500, description="#id, e-mail, @handle or full name.")


class AcceptIn(BaseModel):
    rating: int | None = Field(default=None, ge=1, le=5)
    share: Literal["topic", "everyone", "private"] = Field(
        default="topic",
        description="Who may find the answer in memory: the people of the spaces the question's topic came from "
        "(organisation-wide when memory cited none), everyone, or nobody else.",
    )
    answer_id: int | None = Field(default=None, ge=1, le=2**63 - 1, description="Which answer (default: the latest).")


class PrefsIn(BaseModel):
    """Fields left out are unchanged."""

    channels: list[Literal["email", "slack", "webhook"]] | None = Field(default=None, max_length=3)
    digest: Literal["immediate", "daily"] | None = None
    weekly_budget: int | None = Field(default=None, ge=0, le=1000)
    ooo_until: datetime | None = None
    work_start: int | None = Field(default=None, ge=0, le=23)
    work_end: int | None = Field(default=None, ge=1, le=24)
    work_days: list[Annotated[int, Field(ge=1, le=7)]] | None = Field(default=None, max_length=7)
    hidden_topics: list[Annotated[str, Field(min_length=1, max_length=100)]] | None = Field(
        default=None, max_length=200
    )
    email: str | None = Field(default=None, max_length=320)
    slack_user: str | None = Field(default=None, max_length=100)


class OptOutIn(BaseModel):
    opt_out: bool = Field(default=True, description="true: opt out; false: opt back in.")
    scope: Literal["routing", "all"] = Field(
        default="routing",
        description="routing: never route questions to me; all: leave whoknows altogether (no expert rankings, "
        "no routing, named only as 'a colleague' in answers, left out of analytics, profile visible only to me).",
    )


@router.get("/inbox", response_model=Page)
def inbox(state: State, me: Reader, page: Annotated[PageParams, Depends()]) -> Page:
    """Routed questions waiting for the caller's answer, with why they were asked."""
    from whoknows.routing import inbox as load_inbox

    return page.page(load_inbox(state.store, me))


@router.post("/assignments/{assignment_id}/answer")
def answer(assignment_id: RowId, body: AnswerIn, state: State, me: Caller) -> dict[str, Any]:
    """Answer a routed question: stored in memory credited to the caller; the asker is notified."""
    from whoknows.routing import answer as do_answer

    return do_answer(
        state.store, state.data_dir, assignment_id, body.text, me.person_id, channel="api", settings=state.settings
    )


@router.post("/assignments/{assignment_id}/decline")
def decline(assignment_id: RowId, body: DeclineIn, state: State, me: Caller) -> dict[str, Any]:
    """Decline; the next expert is asked."""
    from whoknows.routing import decline as do_decline

    result = do_decline(
        state.store,
        state.data_dir,
        assignment_id,
        me.person_id,
        reason=body.reason,
        settings=state.settings,
        learn_now=False,
    )
    if result["learned"]:
        state.learner.kick()  # the model refits in the background; the expert does not wait for it
    return result


@router.post("/assignments/{assignment_id}/forward")
def forward(assignment_id: RowId, body: ForwardIn, state: State, me: Caller, reader: Reader) -> dict[str, Any]:
    """Hand the question to a colleague (their own preferences still apply)."""
    from whoknows.routing import forward as do_forward

    colleague = state.store.find_person(body.colleague, reader)
    assert colleague.id is not None
    return do_forward(state.store, assignment_id, me.person_id, colleague.id, settings=state.settings)


@router.post("/questions/{question_id}/accept")
def accept(question_id: RowId, body: AcceptIn, state: State, me: Caller) -> dict[str, Any]:
    """The asker accepts (and may rate) the latest answer; the expertise model learns from it (in the background:
    ``outcomes_applied`` is 0 here, the refit follows within seconds)."""
    from whoknows.routing import accept as do_accept

    result = do_accept(
        state.store,
        state.data_dir,
        question_id,
        me.person_id,
        rating=body.rating,
        answer_id=body.answer_id,
        learn_now=False,
        share=body.share,
    )
    state.learner.kick()  # the model refits in the background; the asker does not wait for it
    return result


@router.post("/questions/{question_id}/unshare")
def unshare(question_id: RowId, state: State, me: Caller) -> dict[str, Any]:
    """An expert who answered (or the asker) takes a shared answer back: private to asker and experts again."""
    from whoknows.routing import unshare as do_unshare

    return do_unshare(state.store, question_id, me.person_id)


@router.get("/me/prefs")
def get_prefs(state: State, me: Caller) -> dict[str, Any]:
    """The caller's routing preferences."""
    from whoknows.routing import get_prefs as load

    return load(state.store, me.person_id).as_dict()


@router.put("/me/prefs")
def put_prefs(body: PrefsIn, state: State, me: Caller) -> dict[str, Any]:
    """Change some of the caller's routing preferences: fields left out are unchanged; ``ooo_until``,
    ``weekly_budget``, ``email`` and ``slack_user`` sent as ``null`` are cleared (back to none / the default)."""
    from whoknows.routing import set_prefs
    from whoknows.routing.prefs import CLEARABLE

    clear = [f for f in sorted(body.model_fields_set) if f in CLEARABLE and getattr(body, f) is None]
    return set_prefs(state.store, me.person_id, clear=clear, **body.model_dump(exclude_none=True)).as_dict()


@router.get("/me/questions", response_model=Page)
def my_questions(state: State, me: Reader, page: Annotated[PageParams, Depends()]) -> Page:
    """The questions I routed, newest first: status, who was asked, the answers (accept them with
    ``POST /questions/{id}/accept``) and memory's draft as I may still see it."""
    from whoknows.routing import my_questions as load

    return page.page(load(state.store, me))


@router.post("/me/opt-out")
def opt_out(body: OptOutIn, state: State, me: Caller) -> dict[str, Any]:
    """Opt out of (or back into) routed questions, or (``scope: all``) out of whoknows altogether."""
    from whoknows.identity import set_opt_out
    from whoknows.routing import get_prefs, set_prefs

    if body.scope == "all":
        person = set_opt_out(state.store, f"#{me.person_id}", body.opt_out)
        prefs = get_prefs(state.store, me.person_id)
    else:
        person = {"opted_out": state.store.get_person(me.person_id).opted_out}
        prefs = set_prefs(state.store, me.person_id, routing_opt_out=body.opt_out)
    return {**prefs.as_dict(), "opted_out": bool(person["opted_out"]), "scope": body.scope}
