"""The web UI's pages over TestClient: login redirects, roles, security headers, escaping, assets, errors, and the
asker's "My questions" page."""

from __future__ import annotations

import re

import pytest
from webhelpers import PASSWORD, WebOrg

from whoknows.routing import answer, ask_or_route
from whoknows.web.admin_view import settings_rows
from whoknows.web.pages import schedule
from whoknows.web.render import safe_url, topic_label
from whoknows.web.session import safe_next

PAGES = ["/", "/questions", "/inbox", "/me", "/people/%231", "/dashboard", "/admin"]
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'"
)
XSS = "<script>alert(1)</script> how do we share the SOC 2 report?"


@pytest.mark.parametrize("path", PAGES)
def test_logged_out_pages_redirect_to_login_with_next(web_org: WebOrg, path: str) -> None:
    r = web_org.client().get(path, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login?next=/")
    assert r.headers["location"].endswith(path.replace("%23", "%2523")) or path == "/"


def test_a_bad_session_cookie_redirects_to_login(web_org: WebOrg) -> None:
    client = web_org.client()
    client.cookies.set("whoknows_session", "wk_not-a-real-token")
    r = client.get("/inbox", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/inbox"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("/inbox?x=1", "/inbox?x=1"), ("//evil.example/", "/"), ("/\\evil.example", "/"), ("https://evil.example", "/"),
     ("javascript:alert(1)", "/"), ("", "/"), (None, "/"), ("/ok\nLocation: x", "/")],
)  # fmt: skip
def test_next_is_only_a_path_on_this_site(value: str | None, expected: str) -> None:
    assert safe_next(value) == expected


def test_login_page_renders_and_keeps_only_a_safe_next(web_org: WebOrg) -> None:
    r = web_org.client().get("/login?next=//evil.example/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert 'data-next="/"' in r.text
    assert '<label for="email">' in r.text and '<label for="password">' in r.text
    r = web_org.client().get("/login?next=/dashboard")
    assert 'data-next="/dashboard"' in r.text


def test_login_page_sends_a_signed_in_person_on(web_org: WebOrg) -> None:
    r = web_org.client(web_org.people["asker"]).get("/login?next=/inbox", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/inbox"


@pytest.mark.parametrize("path", [*PAGES, "/login", "/nope"])
def test_pages_have_the_page_csp_and_security_headers(web_org: WebOrg, path: str) -> None:
    r = web_org.client(web_org.people["admin"]).get(path)
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["content-security-policy"] == PAGE_CSP
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    assert r.headers["cache-control"] == "no-store"
    # no inline script, inline style or event-handler attributes anywhere
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", r.text)
    assert not re.search(r"\sstyle=|<style|\son[a-z]+=", r.text, re.IGNORECASE)


def test_the_api_keeps_its_own_csp(web_org: WebOrg) -> None:
    r = web_org.client(web_org.people["asker"]).get("/api/v1/auth/me")
    assert r.headers["content-security-policy"].startswith("default-src 'none'")


def test_members_get_a_403_page_for_admin_and_the_organisation_dashboard(web_org: WebOrg) -> None:
    client = web_org.client(web_org.people["asker"])
    for path in ("/admin", "/dashboard?scope=organisation"):
        r = client.get(path)
        assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
        assert "open this page" in r.text and "Log out" in r.text
    analyst = web_org.client(web_org.people["analyst"])
    assert analyst.get("/admin").status_code == 403
    r = analyst.get("/dashboard?scope=organisation")
    assert r.status_code == 200 and "Every space in the organisation" in r.text


def test_each_page_renders_for_its_role(web_org: WebOrg) -> None:
    admin = web_org.client(web_org.people["admin"])
    for path in PAGES:
        r = admin.get(path)
        assert r.status_code == 200, (path, r.text[:500])
        assert 'class="skip-link" href="#main"' in r.text and 'id="main"' in r.text
        assert re.search(r"<h1[ >]", r.text), path
    assert "<svg" in admin.get("/dashboard").text


def test_unknown_pages_get_an_html_404_and_unknown_api_routes_json(web_org: WebOrg) -> None:
    client = web_org.client(web_org.people["asker"])
    r = client.get("/no-such-page")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "Page not found" in r.text
    r = client.get("/people/nobody-at-all-xyz")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    r = client.get("/api/v1/no-such-route")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(
    ("path", "kind"),
    [("/static/app.css", "text/css"), ("/static/js/common.js", "text/javascript"), ("/static/js/ask.js",
     "text/javascript"), ("/static/logo.svg", "image/svg+xml"), ("/static/favicon.svg", "image/svg+xml")],
)  # fmt: skip
def test_static_assets_are_served_with_their_content_types(web_org: WebOrg, path: str, kind: str) -> None:
    r = web_org.client().get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] == kind
    assert r.headers["x-content-type-options"] == "nosniff"


def test_a_script_in_a_question_is_shown_as_text_in_the_inbox(web_org: WebOrg) -> None:
    asker = web_org.people["asker"]
    routed = ask_or_route(web_org.store, web_org.derived, XSS, asker, route="always", k=1,
                          settings=web_org.settings)  # fmt: skip
    assert routed.routed and routed.asked, routed.as_dict()
    expert = int(routed.asked[0]["person_id"])
    web_org.account(expert)
    page = web_org.client(expert).get("/inbox")
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; how do we share" in page.text


def test_my_questions_shows_status_who_was_asked_and_answers_as_text(web_org: WebOrg) -> None:
    asker = web_org.people["asker"]
    question = "<script>alert(3)</script> who signs off a security questionnaire for a prospect?"
    routed = ask_or_route(web_org.store, web_org.derived, question, asker, route="always", k=2,
                          settings=web_org.settings)  # fmt: skip
    assert routed.routed and routed.asked, routed.as_dict()
    first = routed.asked[0]
    reply = "<b>Security</b> signs off; send it to trust@acme.example & wait for <i>their</i> OK."
    answer(web_org.store, web_org.derived, int(first["assignment_id"]), reply, int(first["person_id"]),
           settings=web_org.settings)  # fmt: skip
    qid = int(routed.question_id)

    client = web_org.client(asker)
    page = client.get("/questions")
    assert page.status_code == 200
    assert '<a href="/questions" aria-current="page">My questions' in page.text
    card = _card(page.text, f'id="question-{qid}"')
    assert "<script>alert(3)</script>" not in page.text and "<b>Security</b>" not in page.text
    assert "&lt;script&gt;alert(3)&lt;/script&gt; who signs off" in card
    assert "&lt;b&gt;Security&lt;/b&gt; signs off; send it to trust@acme.example &amp; wait" in card
    assert ">Answered</span>" in card
    assert f'<span class="asked-name">{first["name"]}</span>' in card and ">answered</span>" in card
    assert 'data-action="accept"' in card and 'name="rating" value="4"' in card
    assert 'aria-describedby="rating-hint-' in card and "<legend>Did it help?" in card

    # Accepted (as the page's script does it): the page then shows the rating, and no Accept form.
    csrf = client.cookies.get("whoknows_csrf")
    r = client.post(f"/api/v1/questions/{qid}/accept", json={"rating": 4}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    card = _card(client.get("/questions").text, f'id="question-{qid}"')
    assert "Accepted · rated 4 of 5" in card and ">Closed</span>" in card
    assert 'data-action="accept"' not in card

    # The expert's own "My questions" does not show the asker's question.
    expert = int(first["person_id"])
    web_org.account(expert)
    expert_page = web_org.client(expert).get("/questions")
    assert expert_page.status_code == 200 and f'id="question-{qid}"' not in expert_page.text


def test_my_questions_empty_state_links_to_the_ask_page(web_org: WebOrg) -> None:
    newcomer = 59  # never asks anything in these tests
    web_org.account(newcomer)
    page = web_org.client(newcomer).get("/questions")
    assert page.status_code == 200
    assert "You haven't asked the experts anything yet" in page.text and 'href="/">Ask page</a>' in page.text
    assert "question-item" not in page.text


def test_the_inbox_and_the_ask_script_point_to_my_questions(web_org: WebOrg) -> None:
    client = web_org.client(web_org.people["asker"])
    assert 'href="/questions">My questions</a>' in client.get("/inbox").text
    script = client.get("/static/js/ask.js").text
    assert 'href: "/questions"' in script
    assert "api(`/people" not in script  # availability comes with /ask: one ask is one request


def _card(html: str, marker: str) -> str:
    """The ``<article>`` of the page that carries ``marker``."""
    start = html.index(marker)
    return html[html.rindex("<article", 0, start) : html.index("</article>", start)]


def test_settings_table_never_shows_secrets() -> None:
    from whoknows.settings import Settings

    rows = settings_rows(Settings(db="postgresql://wk:hunter2pass@db.example:5432/wk", slack_token="xoxb-SECRET",
                                  webhook_secret="whsec-SECRET", slack_signing_secret="sign-SECRET"))  # fmt: skip
    text = repr(rows)
    assert "SECRET" not in text and "hunter2pass" not in text
    assert ("db", "WHOKNOWS_DB", "postgresql://wk:***@db.example:5432/wk") in rows
    assert any(name == "routing_threshold" for name, _, _ in rows)


def test_wrong_password_is_refused_by_the_api_the_login_page_uses(web_org: WebOrg) -> None:
    r = web_org.client().post("/api/v1/auth/login", json={"email": web_org.email(1), "password": PASSWORD + "x"})
    assert r.status_code == 401


def test_topic_labels_show_the_word_behind_the_stem() -> None:
    evidence = [{"snippet": "Only Vault is in the FedRAMP boundary."}]
    assert topic_label({"term": "boundari", "evidence": evidence}) == "Boundary"
    assert topic_label({"term": "fedramp", "evidence": evidence}) == "FedRAMP"
    assert topic_label({"term": "quot", "evidence": []}) == "Quot"
    assert topic_label({"term": "glass", "label": "break glass", "evidence": evidence}) == "Break glass"


def test_schedules_and_links_read_well() -> None:
    assert schedule([1, 2, 3, 4, 5], 9, 18) == "Mon–Fri, 09:00–18:00"
    assert schedule(list(range(1, 8)), 0, 24) == "every day, around the clock"
    assert schedule([1, 3], 8, 16) == "Mon, Wed, 08:00–16:00"
    assert safe_url("https://chat.example/t/1") == "https://chat.example/t/1"
    assert safe_url("javascript:alert(1)") is None and safe_url(None) is None and safe_url("/relative") is None
