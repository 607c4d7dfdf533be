"""The page routes: login, ask, inbox, my questions, my profile, a person, the dashboard, admin.

Each page reads as the signed-in person through the core (the same calls as the API routes); what changes data
is done by the page's script through the JSON API.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from whoknows.derive import expertise_path
from whoknows.errors import WhoknowsError
from whoknows.web.admin_view import IMPORT_KINDS, settings_rows
from whoknows.web.dashboard import MONTH_CHOICES, dashboard_view, months_param
from whoknows.web.render import asset, render
from whoknows.web.session import AdminUser, LoginNeeded, PageForbidden, PageUser, User, page_user, safe_next

router = APIRouter(include_in_schema=False)
WEEKDAYS = ((1, "Mon"), (2, "Tue"), (3, "Wed"), (4, "Thu"), (5, "Fri"), (6, "Sat"), (7, "Sun"))


@router.get("/login")
def login_page(request: Request, next: Annotated[str | None, Query(max_length=2000)] = None) -> Response:
    target = safe_next(next)
    try:
        page_user(request)
    except LoginNeeded:
        return render(request, "login.html", next_url=target, user=None)
    return RedirectResponse(target, status_code=303)


@router.get("/favicon.ico")
def favicon() -> Response:
    return RedirectResponse(asset("favicon.svg"), status_code=308)


@router.get("/")
def ask_page(request: Request, user: User, q: Annotated[str, Query(max_length=2000)] = "") -> Response:
    return render(request, "ask.html", user=user, question=q)


@router.get("/inbox")
def inbox_page(request: Request, user: User) -> Response:
    from whoknows.routing import inbox

    # The core shows the draft answer and its citations only as far as this expert may read their sources.
    return render(request, "inbox.html", user=user, items=inbox(user.state.store, user.viewer))


@router.get("/questions")
def my_questions_page(request: Request, user: User) -> Response:
    from whoknows.routing import my_questions

    # The core shows memory's draft only as far as the asker may still read its sources.
    return render(request, "questions.html", user=user, items=my_questions(user.state.store, user.viewer))


def _profile(user: PageUser, ref: str) -> tuple[dict[str, Any] | None, str | None]:
    from whoknows.expertise import profile

    try:
        found = profile(user.state.store, ref, user.viewer, path=expertise_path(user.state.data_dir))
    except WhoknowsError as exc:
        if exc.http_status == 404 and exc.code.startswith("person"):
            raise
        return None, exc.message
    return found.as_dict(), None


@router.get("/me")
def me_page(request: Request, user: User) -> Response:
    from whoknows.routing import get_prefs

    profile, problem = _profile(user, f"#{user.person_id}")
    prefs = get_prefs(user.state.store, user.person_id)
    person = user.state.store.get_person(user.person_id)
    # An out-of-office time that has passed is no longer shown (nor one "cleared" the old way, by sending now).
    ooo = prefs.current_ooo(datetime.now(UTC))
    return render(
        request,
        "me.html",
        user=user,
        profile=profile,
        profile_problem=problem,
        prefs=prefs,
        ooo_until=ooo,
        person=person,
        weekdays=WEEKDAYS,
        default_budget=user.state.settings.routing_weekly_budget,
    )


@router.get("/people/{ref}")
def person_page(request: Request, ref: str, user: User) -> Response:
    from whoknows.routing import get_prefs
    from whoknows.routing.availability import availability_of

    person = user.state.store.find_person(ref, user.viewer)
    assert person.id is not None
    profile, problem = _profile(user, f"#{person.id}")
    prefs = get_prefs(user.state.store, person.id)
    free = availability_of(prefs, person.timezone, datetime.now(UTC))  # what the API's expert cards carry
    availability = {
        "local_time": free["local_time"],
        "working": free["working_now"],
        "schedule": schedule(prefs.work_days, prefs.work_start, prefs.work_end),
        "ooo_until": free["out_of_office_until"],
        "routing_opt_out": not free["takes_routed_questions"],
    }
    return render(
        request,
        "person.html",
        user=user,
        person=person,
        profile=profile,
        profile_problem=problem,
        availability=availability,
        is_me=person.id == user.person_id,
    )


def schedule(days: list[int], start: int, end: int) -> str:
    """``Mon–Fri, 09:00–18:00``, ``every day, around the clock`` …"""
    chosen = sorted(set(days))
    if chosen == list(range(1, 8)):
        when = "every day"
    elif len(chosen) > 2 and chosen == list(range(chosen[0], chosen[-1] + 1)):
        when = f"{WEEKDAYS[chosen[0] - 1][1]}–{WEEKDAYS[chosen[-1] - 1][1]}"
    else:
        when = ", ".join(label for day, label in WEEKDAYS if day in chosen) or "no days"
    hours = "around the clock" if (start, end) == (0, 24) else f"{start:02d}:00–{end:02d}:00"
    return f"{when}, {hours}"


@router.get("/dashboard")
def dashboard_page(
    request: Request,
    user: User,
    scope: Annotated[str, Query(max_length=20)] = "mine",
    months: Annotated[str, Query(max_length=5)] = "6",
) -> Response:
    from whoknows.analytics import build_report

    if scope not in ("mine", "organisation"):
        scope = "mine"
    if scope == "organisation" and not user.viewer.has_role("analyst"):
        raise PageForbidden("The organisation-wide dashboard needs the analyst role.")
    n = months_param(months)
    view = problem = None
    try:
        report = build_report(
            user.state.store, user.viewer, organisation=scope == "organisation", months=n,
            settings=user.state.settings,
        )  # fmt: skip
        view = dashboard_view(report, scope=scope, months=n)
    except WhoknowsError as exc:
        problem = exc.message
    return render(
        request, "dashboard.html", user=user, view=view, problem=problem, scope=scope, months=n,
        month_choices=MONTH_CHOICES,
    )  # fmt: skip


@router.get("/admin")
def admin_page(request: Request, user: AdminUser) -> Response:
    settings = user.state.settings
    return render(
        request,
        "admin.html",
        user=user,
        kinds=IMPORT_KINDS,
        settings_rows=settings_rows(settings),
        max_upload=settings.api_max_upload_bytes,
    )
