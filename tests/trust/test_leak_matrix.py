"""No leaks, as a matrix: every viewer (members and non-members of each private space, admin, analyst, anonymous)
against every surface that shows content (ask, expert finding, profiles, analytics, routing drafts and inboxes,
notifications, the CLI's ``--json``, every API route, the web pages). A canary may appear iff the reference model
says the viewer may read its space; each surface must also *carry* canaries to entitled viewers (else the check
would pass vacuously). See ``leakorg.py`` for the organisation.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from leakorg import (
    PASSWORD,
    PRIVATE_CAST,
    TOPICS,
    Canary,
    LeakOrg,
    SpaceRef,
    Tally,
    build_org,
    canary_token,
    viewers,
)
from sqlalchemy import select
from typer.testing import CliRunner

from whoknows.access import Viewer
from whoknows.analytics import build_report, write_html
from whoknows.api.accounts import account_of, issue_token
from whoknows.api.app import create_app
from whoknows.derive import expertise_path, reindex
from whoknows.expertise import find_experts, profile
from whoknows.memory.ask import MemorySearch, ask
from whoknows.memory.memory_index import index_path
from whoknows.model import SpaceKind, Visibility
from whoknows.routing import answer, ask_or_route, inbox
from whoknows.routing.channels.base import render
from whoknows.store import schema

CONTENT_ROLES = ("question", "answer", "open")
#: A query that ranks the private solution first (its answer text says "internal procedure … last quarter").
ROUTE_WORDS = " internal procedure last quarter"


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LeakOrg]:
    o = build_org(tmp_path_factory.mktemp("leak-matrix"), accounts=True)
    try:
        yield o
    finally:
        o.close()


def queries(org: LeakOrg) -> dict[str, str]:
    """Per private space the words a colleague would type (never a canary: outputs echo the question)."""
    out = dict(TOPICS)
    out["room-topic"] = next(c.topic for c in org.canaries if c.role == "topic")
    return out


def expected(org: LeakOrg, viewer: str | None, space: str) -> set[str]:
    return {c.token for c in org.canaries if c.space == space and c.role in CONTENT_ROLES and org.may_see(viewer, c)}


def finish(tally: Tally, org: LeakOrg, title: str, carried: dict[str, set[str]]) -> None:
    print("\n" + tally.report(title, len(org.canaries)))
    for surface, seen in sorted(carried.items()):
        print(f"  {surface}: {len(seen)} canaries shown to entitled viewers")
    assert not tally.leaks, tally.report(title, len(org.canaries))
    empty = [s for s, seen in carried.items() if not seen]
    assert not empty, f"surfaces that never showed a canary to an entitled viewer (vacuous checks): {empty}"
    assert not tally.misses, "members did not see their own canaries:\n" + "\n".join(tally.misses[:20])


def carry(carried: dict[str, set[str]], org: LeakOrg, surface: str, viewer: str | None, seen: set[str]) -> None:
    """Record which canaries an entitled viewer saw on ``surface`` (the positive control)."""
    ok = {c.token for c in org.canaries if c.token in seen and org.may_see(viewer, c)}
    carried.setdefault(surface, set()).update(ok)


# -- the core library ---------------------------------------------------------------------------------------
def test_core_surfaces(org: LeakOrg) -> None:
    tally, carried = Tally(), dict[str, set[str]]()
    warm = MemorySearch(org.store, index_path(org.data_dir))
    epath = expertise_path(org.data_dir)
    for v in viewers(org):
        vid = org.ids[v] if v else None
        for space, q in queries(org).items():
            result = warm.ask(q, org.store.viewer(vid), k=10).as_dict()
            seen = tally.check(org, "ask", v, result)
            carry(carried, org, "ask", v, seen)
            base = space.split("-")[0]
            if base == space:  # every member finds the question, answer and open question of their space
                missing = expected(org, v, space) - seen
                tally.misses += [f"ask {q!r} as {v}: {sorted(missing)}"] if missing else []
            once = ask(org.store, org.data_dir, q, org.store.viewer(vid)).as_dict()
            tally.check(org, "ask (one-shot)", v, once)
            experts = find_experts(org.store, q, org.store.viewer(vid), k=10, path=epath).as_dict()
            carry(carried, org, "find_experts", v, tally.check(org, "find_experts", v, experts))
        # Profiles of everybody (the person's own name is the page's subject: people=False).
        for subject in org.ids:
            prof = profile(org.store, org.email(subject), org.store.viewer(vid), path=epath).as_dict()
            seen = tally.check(org, f"profile of {subject}", v, prof, people=False)
            carry(carried, org, "profile (other)" if subject != v else "profile (self)", v, seen)
        report = build_report(org.store, org.store.viewer(vid), settings=org.settings)
        carry(carried, org, "analytics (mine)", v, tally.check(org, "analytics (mine)", v, report.as_dict()))
        html = org.data_dir / f"report-{v}.html"  # the offline HTML export
        write_html(report, html)
        carry(carried, org, "analytics HTML export", v, tally.check(org, "analytics HTML", v, html.read_text()))
    # The operator's run over every space (by design: docs/analytics.md) carries the analytics canary.
    admin = build_report(org.store, Viewer.system(), organisation=True, settings=org.settings).as_dict()
    assert any(c.token in org.seen(admin) for c in org.canaries if c.role == "topic")
    finish(tally, org, "core library", carried)


# -- the CLI ------------------------------------------------------------------------------------------------
def test_cli_json(org: LeakOrg) -> None:
    from whoknows.cli import app

    runner = CliRunner()
    env = {"WHOKNOWS_DATA_DIR": str(org.settings.data_dir), "WHOKNOWS_ANALYTICS_MIN_GROUP": "2"}
    tally, carried = Tally(), dict[str, set[str]]()

    def run(*args: str) -> str:
        result = runner.invoke(app, ["--db", str(org.settings.db), *args], env=env)
        assert result.exit_code == 0, (args, result.output)
        return result.stdout

    for v in viewers(org):
        who = ["--as", org.email(v)] if v else []
        for q in queries(org).values():
            out = run("ask", q, *who, "--json")
            carry(carried, org, "cli ask", v, tally.check(org, "cli ask", v, out))
            out = run("experts", q, *who, "--json")
            carry(carried, org, "cli experts", v, tally.check(org, "cli experts", v, out))
        for subject in ("pia", "ann", "gus", "bob"):
            out = run("profile", org.email(subject), *who, "--json")
            carry(carried, org, "cli profile", v, tally.check(org, f"cli profile {subject}", v, out, people=False))
        out = run("report", *who, "--json")
        carry(carried, org, "cli report", v, tally.check(org, "cli report", v, out))
    finish(tally, org, "CLI --json", carried)


# -- the HTTP API -------------------------------------------------------------------------------------------
#: Read routes checked for every viewer (path parameters filled in below); anything else is listed as not covered.
API_READS = {
    ("GET", "/api/v1/auth/me"),
    ("POST", "/api/v1/ask"),
    ("GET", "/api/v1/people/{ref}"),
    ("GET", "/api/v1/people/{ref}/profile"),
    ("GET", "/api/v1/analytics/report"),
    ("GET", "/api/v1/inbox"),
    ("GET", "/api/v1/me/prefs"),
}


def _tokens(org: LeakOrg) -> dict[str, str]:
    return {
        ext: issue_token(org.store, account_of(org.store, org.email(ext)), kind="api", name="leak-matrix").token
        for ext in org.ids
    }


def test_api_routes(org: LeakOrg) -> None:
    app = create_app(org.settings, store=org.store)
    client = TestClient(app)
    tokens = _tokens(org)
    tally, carried = Tally(), dict[str, set[str]]()
    spec = client.get("/api/v1/openapi.json").json()["paths"]
    api_routes = {(m.upper(), p) for p, ops in spec.items() for m in ops}
    assert api_routes >= API_READS, API_READS - api_routes
    extra_gets = sorted(p for m, p in api_routes - API_READS if m == "GET" and "{" not in p and "/admin/" not in p)
    for v in org.ids:
        h = {"Authorization": f"Bearer {tokens[v]}"}
        for q in queries(org).values():
            r = client.post("/api/v1/ask", json={"question": q, "k": 10}, headers=h)
            assert r.status_code == 200, r.text
            carry(carried, org, "POST /ask", v, tally.check(org, "POST /ask", v, r.text))
        for subject in org.ids:
            r = client.get(f"/api/v1/people/{org.email(subject)}", headers=h)
            tally.check(org, "GET /people/{ref}", v, r.text, people=False)
            r = client.get(f"/api/v1/people/{org.email(subject)}/profile", headers=h)
            assert r.status_code == 200, r.text
            seen = tally.check(org, "GET /people/{ref}/profile", v, r.text, people=False)
            carry(carried, org, "GET /people/{ref}/profile", v, seen)
        r = client.get("/api/v1/analytics/report", params={"scope": "mine"}, headers=h)
        assert r.status_code == 200, r.text
        carry(carried, org, "GET /analytics/report", v, tally.check(org, "GET /analytics/report", v, r.text))
        r = client.get("/api/v1/analytics/report", params={"scope": "organisation"}, headers=h)
        if v not in ("ada", "alan"):  # the organisation-wide report is for analysts and admins only
            assert r.status_code == 403, r.text
        else:  # every space is counted, but no word from a space the viewer cannot read (topic labels)
            assert r.status_code == 200, r.text
            # (ada and alan are in no private space, so this surface has no entitled viewer: leak check only)
            tally.check(org, "GET /analytics/report?scope=organisation", v, r.text)
        for path in ("/api/v1/auth/me", "/api/v1/inbox", "/api/v1/me/prefs", *extra_gets):
            r = client.get(path, headers=h)
            tally.check(org, f"GET {path}", v, r.text)
    client.close()
    uncovered = sorted(f"{m} {p}" for m, p in api_routes - API_READS if m != "GET" or "{" in p)
    print(f"\nAPI routes checked: {len(API_READS) + len(extra_gets)}; state-changing/admin routes covered elsewhere "
          f"or by role (routing test, admin = operator): {uncovered}")  # fmt: skip
    finish(tally, org, "HTTP API", carried)


# -- the web pages ------------------------------------------------------------------------------------------
WEB_PAGES = ("/", "/inbox", "/me", "/people/{ref}", "/dashboard")


def test_web_pages(org: LeakOrg) -> None:
    app = create_app(org.settings, store=org.store)
    with TestClient(app) as anonymous:  # a page that exists answers (a redirect to the login page), never 404
        present = [p for p in WEB_PAGES if anonymous.get(p.replace("{ref}", "1")).status_code != 404]
    if not present:
        pytest.skip("no web UI pages in this build (src/whoknows/web not installed)")
    tally, carried = Tally(), dict[str, set[str]]()
    for v in org.ids:
        with TestClient(app) as client:
            r = client.post("/api/v1/auth/login", json={"email": org.email(v), "password": PASSWORD})
            assert r.status_code == 200, r.text
            for page in present:
                subjects = org.ids if "{ref}" in page else [""]
                for subject in subjects:
                    url = page.replace("{ref}", org.email(subject)) if subject else page
                    urls = [url] + ([f"/?q={q}" for q in queries(org).values()] if page == "/" else [])
                    for u in urls:
                        r = client.get(u)
                        assert r.status_code == 200, (v, u, r.status_code, r.text[:300])
                        seen = tally.check(org, f"web {page}", v, r.text, people="{ref}" not in page)
                        carry(carried, org, f"web {page}", v, seen)
    # Pages that render through the browser's script (the ask page) carry nothing themselves: not vacuous checks.
    carried = {s: seen for s, seen in carried.items() if s in ("web /people/{ref}", "web /me", "web /dashboard")}
    finish(tally, org, f"web pages {present}", carried)


# -- routing: drafts, inboxes, notifications, captured answers ---------------------------------------------
def test_routing_surfaces(tmp_path_factory: pytest.TempPathFactory) -> None:
    org = build_org(tmp_path_factory.mktemp("leak-routing"), accounts=True)
    tally, carried = Tally(), dict[str, set[str]]()
    app = create_app(org.settings, store=org.store)
    client = TestClient(app)
    tokens = _tokens(org)
    outsiders_asked = 0
    try:
        for space, (asker, _answerer, _opener) in PRIVATE_CAST.items():
            for via in ("core", "api"):
                question = TOPICS[space] + ROUTE_WORDS
                if via == "core":
                    result = ask_or_route(
                        org.store, org.data_dir, question, org.ids[asker], route="always", k=3, settings=org.settings
                    ).as_dict()
                else:
                    r = client.post("/api/v1/route", json={"question": question, "always": True, "k": 3},
                                    headers={"Authorization": f"Bearer {tokens[asker]}"})  # fmt: skip
                    assert r.status_code == 200, r.text
                    result = r.json()
                carry(carried, org, "route (asker)", asker, tally.check(org, f"route {via} (asker)", asker, result))
                for a in result["asked"]:
                    expert = org.person_ext(a["person_id"])
                    outsiders_asked += expert not in org.spaces[space].members
                    check_expert_views(org, tally, client, tokens, expert, a["person_id"])
        # Somebody who may read none of the private spaces was asked about them (the case that matters).
        assert outsiders_asked, "no non-member expert was asked: the draft check would be vacuous"
        # Every expert's views, once more, now that all questions are routed (inboxes hold several items).
        for ext, pid in org.ids.items():
            check_expert_views(org, tally, client, tokens, ext, pid, web=True)

        # A captured answer lives in a private space of asker and expert: nobody else finds it.
        res = ask_or_route(org.store, org.data_dir, TOPICS["dm"], org.ids["ivy"], route="always", k=1,
                           settings=org.settings)  # fmt: skip
        assert res.asked, res.as_dict()
        expert = org.person_ext(res.asked[0]["person_id"])
        assert expert is not None
        secret = canary_token(900, "r")
        answer(org.store, org.data_dir, res.asked[0]["assignment_id"],
               f"Renew the kubernetes ingress certificate with {secret} on staging.", org.ids[expert],
               settings=org.settings)  # fmt: skip
        ref = f"routed-{res.question_id}"
        org.spaces[ref] = SpaceRef(ref, SpaceKind.QA_SITE, ref, Visibility.PRIVATE, {"ivy", expert})
        org.canaries.append(Canary(secret, ref, "answer", expert, TOPICS["dm"]))
        reindex(org.store, org.data_dir)  # the expertise model too: evidence and profiles
        warm = MemorySearch(org.store, index_path(org.data_dir))
        for v in viewers(org):
            vid = org.ids[v] if v else None
            got = warm.ask(TOPICS["dm"], org.store.viewer(vid), k=10).as_dict()
            carry(carried, org, "ask (captured answer)", v, tally.check(org, "ask (captured answer)", v, got))
            prof = profile(
                org.store, org.email(expert), org.store.viewer(vid), path=expertise_path(org.data_dir)
            ).as_dict()
            tally.check(org, "profile (captured answer)", v, prof, people=False)
            if v is not None:
                r = client.post("/api/v1/ask", json={"question": TOPICS["dm"], "k": 10},
                                headers={"Authorization": f"Bearer {tokens[v]}"})  # fmt: skip
                tally.check(org, "POST /ask (captured answer)", v, r.text)
        readers = {
            v
            for v in org.ids
            if secret in org.seen(warm.ask(TOPICS["dm"], org.store.viewer(org.ids[v]), k=10).as_dict())
        }
        assert {"ivy", expert} <= readers
    finally:
        client.close()
        org.close()
    finish(tally, org, "routing", carried)


def check_expert_views(
    org: LeakOrg,
    tally: Tally,
    client: TestClient,
    tokens: dict[str, str],
    expert: str | None,
    pid: int,
    *,
    web: bool = False,
) -> None:
    """What a person sees of the questions routed to them: inbox (core, API, web), queued notifications."""
    assert expert is not None
    tally.check(org, "inbox (core)", expert, inbox(org.store, org.store.viewer(pid)))
    r = client.get("/api/v1/inbox", params={"limit": 200}, headers={"Authorization": f"Bearer {tokens[expert]}"})
    assert r.status_code == 200, r.text
    tally.check(org, "GET /inbox", expert, r.text)
    ob = schema.notification_outbox
    with org.store.read() as conn:
        rows = conn.execute(select(ob.c.kind, ob.c.payload, ob.c.idempotency_key).where(ob.c.person_id == pid)).all()
    for kind, payload, key in rows:
        tally.check(org, f"notification {kind}", expert, payload)
        note = render(kind, dict(payload), key)
        tally.check(org, f"notification {kind} (rendered)", expert, [note.subject, note.text])
    if web and client.get("/inbox", follow_redirects=False).status_code != 404:  # the web UI is installed
        with TestClient(client.app) as web:  # type: ignore[arg-type]
            login = web.post("/api/v1/auth/login", json={"email": org.email(expert), "password": PASSWORD})
            assert login.status_code == 200, login.text
            page = web.get("/inbox")
            assert page.status_code == 200, page.text[:300]
            tally.check(org, "web /inbox", expert, page.text)
