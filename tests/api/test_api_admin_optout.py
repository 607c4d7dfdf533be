"""Opt-out scopes, admin erase / expertise rebuild, and login throttling — each on its own small app, because
they change the organisation (the session-wide ``api`` fixture must stay as it is)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from apihelpers import error_of
from fastapi.testclient import TestClient

from conftest import PASSWORD, SECRET, Api, canary_batch
from whoknows.api.accounts import add_account, issue_token
from whoknows.api.app import create_app
from whoknows.derive import derived_dir, reindex
from whoknows.ingest import ingest
from whoknows.settings import Settings
from whoknows.store import open_store

QUESTION = "What is the walrus discount code for Zanzibar Freight?"


@pytest.fixture
def small(tmp_path: Path) -> Iterator[Api]:
    settings = Settings(data_dir=tmp_path, db=str(tmp_path / "w.db"), api_login_max_failures=3)
    store = open_store(settings)
    ingest(store, "test", "test:api", [canary_batch()])
    reindex(store, derived_dir(tmp_path, store))  # where the server looks
    api = Api(TestClient(create_app(settings, store=store)), store, settings)
    for ext, role in {"ida": "member", "ole": "member", "ada": "admin"}.items():
        account = add_account(store, f"{ext}@api.example", role=role, password=PASSWORD)
        api.tokens[ext] = issue_token(store, account["account_id"], kind="api", name="t").token
    try:
        yield api
    finally:
        api.client.close()
        store.close()


def _expert_names(api: Api, who: str) -> list[str]:
    r = api.client.post("/api/v1/ask", json={"question": QUESTION}, headers=api.auth(who))
    assert r.status_code == 200, r.text
    return [e["name"] for e in r.json()["experts"]["experts"]]


def test_opt_out_all_removes_the_person_from_rankings_at_once_and_undo_restores(small: Api) -> None:
    assert "Ole Inside" in _expert_names(small, "ida")
    r = small.client.post("/api/v1/me/opt-out", json={"opt_out": True, "scope": "all"}, headers=small.auth("ole"))
    assert r.status_code == 200 and r.json()["opted_out"] is True and r.json()["scope"] == "all"
    assert "Ole Inside" not in _expert_names(small, "ida")
    answer = small.client.post("/api/v1/ask", json={"question": QUESTION}, headers=small.auth("ida")).json()
    solutions = answer["memory"]["solutions"]
    assert solutions and SECRET in str(solutions)  # the knowledge stays ...
    assert "Ole Inside" not in str(answer)  # ... without naming the person
    profile = small.client.get("/api/v1/people/ole@api.example/profile", headers=small.auth("ida"))
    assert profile.status_code == 200 and profile.json()["topics"] == [] and "opted out" in profile.json()["reason"]
    r = small.client.post("/api/v1/me/opt-out", json={"opt_out": False, "scope": "all"}, headers=small.auth("ole"))
    assert r.json()["opted_out"] is False
    assert "Ole Inside" in _expert_names(small, "ida")


def test_opt_out_routing_scope_keeps_expert_finding(small: Api) -> None:
    r = small.client.post("/api/v1/me/opt-out", json={"opt_out": True}, headers=small.auth("ole"))
    assert r.status_code == 200 and r.json()["routing_opt_out"] is True and r.json()["opted_out"] is False
    assert "Ole Inside" in _expert_names(small, "ida")
    bad = small.client.post("/api/v1/me/opt-out", json={"opt_out": True, "scope": "x"}, headers=small.auth("ole"))
    error_of(bad, 422, "request.invalid")


def test_admin_erase_needs_admin_and_removes_the_person(small: Api) -> None:
    error_of(
        small.client.post("/api/v1/admin/people/ole@api.example/erase", json={}, headers=small.auth("ida")),
        403,
        "auth.forbidden",
    )
    error_of(
        small.client.post("/api/v1/admin/people/nobody@x.example/erase", json={}, headers=small.auth("ada")),
        404,
        "person.not_found",
    )
    r = small.client.post("/api/v1/admin/people/ole@api.example/erase", json={}, headers=small.auth("ada"))
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Ole Inside" and r.json()["messages"] == 1
    asked = small.client.post("/api/v1/ask", json={"question": QUESTION}, headers=small.auth("ida"))
    assert SECRET not in asked.text and "Ole Inside" not in asked.text
    # his API token died with his account
    error_of(small.client.get("/api/v1/auth/me", headers=small.auth("ole")), 401)


def test_admin_expertise_rebuild(small: Api) -> None:
    error_of(small.client.post("/api/v1/admin/expertise/rebuild", headers=small.auth("ole")), 403)
    r = small.client.post("/api/v1/admin/expertise/rebuild", headers=small.auth("ada"))
    assert r.status_code == 200 and r.json()["people"] >= 1 and r.json()["seconds"] >= 0


def test_login_throttle_per_email_then_cleared_by_the_window(small: Api) -> None:
    def login(email: str, password: str) -> int:
        return small.client.post("/api/v1/auth/login", json={"email": email, "password": password}).status_code

    for _ in range(3):
        assert login("ida@api.example", "wrong password!") == 401
    r = small.client.post("/api/v1/auth/login", json={"email": "ida@api.example", "password": PASSWORD})
    err = error_of(r, 429, "auth.rate_limited")  # even the right password: the e-mail is locked for the window
    assert int(r.headers["Retry-After"]) >= 1 and err["details"]["retry_after"] >= 1
    assert login("IDA@api.example ", PASSWORD) == 429  # same address, other spelling
    assert login("ole@api.example", PASSWORD) == 200  # other people are not locked out


def test_accept_answers_at_once_and_the_model_learns_in_the_background(small: Api) -> None:
    from sqlalchemy import func, select

    from whoknows.store import schema

    routed = small.client.post(
        "/api/v1/route", json={"question": QUESTION, "always": True, "k": 1}, headers=small.auth("ida")
    ).json()
    assert routed["routed"] and routed["asked"], routed
    expert = {v: k for k, v in {"ole": "Ole Inside", "ada": "Ada Admin"}.items()}[routed["asked"][0]["name"]]
    assignment = routed["asked"][0]["assignment_id"]
    r = small.client.post(f"/api/v1/assignments/{assignment}/answer", json={"text": "Use code W-1."},
                          headers=small.auth(expert))  # fmt: skip
    assert r.status_code == 200, r.text
    r = small.client.post(f"/api/v1/questions/{routed['question_id']}/accept", json={"rating": 5},
                          headers=small.auth("ida"))  # fmt: skip
    assert r.status_code == 200 and r.json()["outcomes_applied"] == 0, r.text
    learner = small.client.app.state.whoknows.learner  # type: ignore[attr-defined]
    assert learner.wait(60) and learner.last_error is None
    ro = schema.route_outcomes
    with small.store.read() as conn:
        pending = conn.execute(select(func.count()).where(ro.c.applied_at.is_(None))).scalar_one()
        applied = conn.execute(select(func.count()).where(ro.c.applied_at.is_not(None))).scalar_one()
    assert pending == 0 and applied >= 1 and learner.applied >= 1


def test_expert_cards_carry_availability_and_ooo_can_be_cleared(small: Api) -> None:
    r = small.client.put("/api/v1/me/prefs", json={"ooo_until": "2099-01-01T00:00:00Z"}, headers=small.auth("ole"))
    assert r.status_code == 200 and r.json()["ooo_until"].startswith("2099-01-01")
    experts = small.client.post("/api/v1/ask", json={"question": QUESTION}, headers=small.auth("ida")).json()
    ole = next(e for e in experts["experts"]["experts"] if e["name"] == "Ole Inside")
    free = ole["availability"]
    assert free["out_of_office_until"].startswith("2099-01-01") and free["takes_routed_questions"] is True
    assert " in " in free["local_time"] and isinstance(free["working_now"], bool)
    r = small.client.put("/api/v1/me/prefs", json={"ooo_until": None, "weekly_budget": 3}, headers=small.auth("ole"))
    assert r.status_code == 200 and r.json()["ooo_until"] is None and r.json()["weekly_budget"] == 3
    r = small.client.put("/api/v1/me/prefs", json={"weekly_budget": None}, headers=small.auth("ole"))
    assert r.json()["weekly_budget"] is None
    r = small.client.put("/api/v1/me/prefs", json={"work_start": 8}, headers=small.auth("ole"))  # others unchanged
    assert r.json()["work_start"] == 8 and r.json()["ooo_until"] is None


def test_my_questions_lists_what_i_routed_with_answers_to_accept(small: Api) -> None:
    assert small.client.get("/api/v1/me/questions", headers=small.auth("ida")).json()["items"] == []
    routed = small.client.post(
        "/api/v1/route", json={"question": "Who owns the <b>Zanzibar</b> renewal?", "always": True, "k": 1},
        headers=small.auth("ida"),
    ).json()  # fmt: skip
    mine = small.client.get("/api/v1/me/questions", headers=small.auth("ida")).json()["items"]
    assert [q["question_id"] for q in mine] == [routed["question_id"]]
    assert mine[0]["question"] == "Who owns the <b>Zanzibar</b> renewal?" and mine[0]["answers"] == []
    assert mine[0]["asked"] and not mine[0]["can_accept"]
    expert = {"Ole Inside": "ole", "Ada Admin": "ada"}[routed["asked"][0]["name"]]
    small.client.post(f"/api/v1/assignments/{routed['asked'][0]['assignment_id']}/answer",
                      json={"text": "Ole owns it."}, headers=small.auth(expert))  # fmt: skip
    mine = small.client.get("/api/v1/me/questions", headers=small.auth("ida")).json()["items"]
    assert mine[0]["answers"][0]["text"] == "Ole owns it." and mine[0]["can_accept"]
    assert small.client.get("/api/v1/me/questions", headers=small.auth("ole")).json()["items"] == []  # not theirs


def test_ask_survives_an_unreadable_expertise_model_and_rebuilds_it(small: Api) -> None:
    import json as _json
    import time as _time

    from whoknows.derive import derived_dir, expertise_path
    from whoknows.expertise import finder

    manifest = expertise_path(derived_dir(small.settings.data_dir, small.store)) / "manifest.json"
    data = _json.loads(manifest.read_text())
    manifest.write_text(_json.dumps({**data, "format": 1}))  # as left by an older version
    finder._open_models.clear()
    r = small.client.post("/api/v1/ask", json={"question": QUESTION}, headers=small.auth("ida"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["memory"]["solutions"] and body["experts"]["experts"] == []
    assert "being rebuilt" in body["experts"]["reason"]
    deadline = _time.monotonic() + 60
    while _time.monotonic() < deadline:
        finder._open_models.clear()
        names = _expert_names(small, "ida")
        if names:
            break
        _time.sleep(0.3)
    assert "Ole Inside" in names


def test_prefs_refuse_working_hours_that_end_before_they_start(small: Api) -> None:
    r = small.client.put("/api/v1/me/prefs", json={"work_start": 14, "work_end": 13}, headers=small.auth("ole"))
    assert error_of(r, 422, "routing.bad_prefs")["message"].startswith("working hours must start before")
    r = small.client.put("/api/v1/me/prefs", json={"work_start": 19}, headers=small.auth("ole"))  # end stays 18
    error_of(r, 422, "routing.bad_prefs")
    assert small.client.get("/api/v1/me/prefs", headers=small.auth("ole")).json()["work_start"] == 9  # unchanged
