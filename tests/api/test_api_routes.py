"""The routes end to end as different people: shapes pinned, permission filtering, routing, admin imports."""

from __future__ import annotations

import json
import time

from apihelpers import error_of

from conftest import CANARY_QUESTION, SECRET, Api
from whoknows.api.accounts import add_account, issue_token


def test_ask_shape_and_private_canary_only_for_members(api: Api) -> None:
    inside = api.client.post("/api/v1/ask", json={"question": CANARY_QUESTION}, headers=api.auth("ida"))
    assert inside.status_code == 200, inside.text
    body = inside.json()
    assert set(body) == {"question", "memory", "experts"}
    assert {"question", "asker_id", "solutions", "similar", "confidence", "reason", "warnings", "took_ms"} <= set(
        body["memory"]
    )
    assert {"question", "experts"} <= set(body["experts"])
    assert SECRET in json.dumps(body)
    hit = body["memory"]["solutions"][0]
    assert {"question_id", "solution", "solved_by", "asked_at", "space", "link", "confidence"} <= set(hit)
    for who in ("una", "ada", "alan"):  # not members of the deal room, admins included
        outside = api.client.post("/api/v1/ask", json={"question": CANARY_QUESTION}, headers=api.auth(who))
        assert outside.status_code == 200 and SECRET not in outside.text, who


def test_people_and_profile_as_the_viewer_may_see_them(api: Api) -> None:
    r = api.client.get("/api/v1/people/ole@api.example", headers=api.auth("una"))
    assert r.status_code == 200
    assert set(r.json()) == {"id", "name", "department", "team", "role", "timezone", "opted_out"}
    pid = r.json()["id"]
    theirs = api.client.get(f"/api/v1/people/{pid}/profile", headers=api.auth("una"))
    assert theirs.status_code == 200 and {"person_id", "name", "topics"} <= set(theirs.json())
    assert SECRET not in theirs.text
    error_of(api.client.get("/api/v1/people/nobody@nowhere.example", headers=api.auth("una")), 404, "person.not_found")


def test_route_inbox_answer_accept_and_other_peoples_ids(api: Api) -> None:
    r = api.client.post("/api/v1/route", json={"question": "how do we handle a HIPAA BAA request?", "always": True,
                                               "k": 1}, headers=api.auth("una"))  # fmt: skip
    assert r.status_code == 200, r.text
    routed = r.json()
    assert {
        "question",
        "asker_id",
        "confidence",
        "routed",
        "reason",
        "memory",
        "question_id",
        "asked",
        "skipped",
    } <= set(routed)
    assert routed["routed"] and routed["asked"], routed
    expert_id, assignment = routed["asked"][0]["person_id"], routed["asked"][0]["assignment_id"]
    account = add_account(api.store, f"#{expert_id}", role="member", password=None)
    expert = {"Authorization": "Bearer " + issue_token(api.store, account["account_id"], kind="api", name="t").token}
    inbox = api.client.get("/api/v1/inbox?limit=1", headers=expert).json()
    assert set(inbox) == {"items", "next_cursor"}
    assert inbox["items"][0]["assignment_id"] == assignment
    assert {"assignment_id", "question_id", "question", "asker", "reasons", "due_at"} <= set(inbox["items"][0])
    # Someone else's assignment and question: refused by the core, nothing changes, and the answer is exactly
    # the one for an id that does not exist (a 403 would tell that it exists).
    missing = error_of(api.client.post("/api/v1/assignments/999999/answer", json={"text": "x"}, headers=expert), 404)
    for who in ("ida", "una"):
        r = api.client.post(f"/api/v1/assignments/{assignment}/answer", json={"text": "mine!"}, headers=api.auth(who))
        theirs = error_of(r, 404, "routing.assignment_not_found")
        assert theirs == {**missing, "message": missing["message"].replace("999999", str(assignment))}
    error_of(api.client.post("/api/v1/assignments/999999/decline", json={}, headers=expert), 404)
    r = api.client.post(f"/api/v1/assignments/{assignment}/answer", json={"text": "Use the signed BAA template."},
                        headers=expert)  # fmt: skip
    assert r.status_code == 200, r.text
    assert {"answer_id", "question_id", "message_id"} <= set(r.json())
    error_of(api.client.post(f"/api/v1/questions/{routed['question_id']}/accept", json={}, headers=expert), 404,
             "routing.question_not_found")  # fmt: skip
    r = api.client.post(
        f"/api/v1/questions/{routed['question_id']}/accept", json={"rating": 5}, headers=api.auth("una")
    )
    assert r.status_code == 200 and r.json()["rating"] == 5
    error_of(api.client.post(f"/api/v1/assignments/{assignment}/answer", json={"text": "again"}, headers=expert), 409)


def test_prefs_and_opt_out(api: Api) -> None:
    r = api.client.get("/api/v1/me/prefs", headers=api.auth("ole"))
    assert r.status_code == 200 and r.json()["routing_opt_out"] is False
    r = api.client.put("/api/v1/me/prefs", json={"weekly_budget": 3, "hidden_topics": ["pricing"]},
                       headers=api.auth("ole"))  # fmt: skip
    assert r.json()["weekly_budget"] == 3 and r.json()["hidden_topics"] == ["pricing"]
    error_of(api.client.put("/api/v1/me/prefs", json={"digest": "hourly"}, headers=api.auth("ole")), 422)
    assert api.client.post("/api/v1/me/opt-out", json={}, headers=api.auth("ole")).json()["routing_opt_out"] is True
    assert api.client.get("/api/v1/me/prefs", headers=api.auth("ole")).json()["routing_opt_out"] is True


def test_analytics_report_scopes(api: Api) -> None:
    mine = api.client.get("/api/v1/analytics/report", headers=api.auth("una"))
    assert mine.status_code == 200 and mine.json()["scope"]["all_spaces"] is False
    org = api.client.get("/api/v1/analytics/report?scope=organisation", headers=api.auth("alan"))
    assert org.status_code == 200 and org.json()["scope"]["all_spaces"] is True
    assert SECRET not in mine.text


def test_admin_import_upload_progress_and_result(api: Api) -> None:
    csv = (
        "ticket_id,queue,subject,requester,assignee,status,created_at,description\n"
        "T-1,Billing,Refund for double charge,pat@cust.example,una@api.example,solved,2026-05-01,"
        "We were charged twice for the walrus plan\n"
    )
    r = api.client.post("/api/v1/admin/imports", headers=api.auth("ada"), data={"kind": "tickets"},
                        files={"file": ("tickets.csv", csv.encode(), "text/csv")})  # fmt: skip
    assert r.status_code == 202, r.text
    import_id = r.json()["import_id"]
    assert r.headers["location"] == f"/api/v1/admin/imports/{import_id}"
    deadline = time.monotonic() + 30
    while True:
        status = api.client.get(f"/api/v1/admin/imports/{import_id}", headers=api.auth("ada")).json()
        if status["progress"].get("stage") in ("done", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert set(status) == {"id", "kind", "source", "location", "status", "started_at", "finished_at", "counts",
                           "error", "progress"}  # fmt: skip
    assert status["status"] == "done" and status["progress"]["stage"] == "done", status
    assert status["counts"] and status["location"] == "upload:tickets.csv"
    bad = api.client.post("/api/v1/admin/imports", headers=api.auth("ada"), data={"kind": "nope"},
                          files={"file": ("x.csv", b"a,b\n", "text/csv")})  # fmt: skip
    error_of(bad, 422, "import.unknown_source")
    huge = api.client.post("/api/v1/admin/imports", headers=api.auth("ada"), data={"kind": "tickets"},
                           files={"file": ("big.csv", b"x" * 300_000, "text/csv")})  # fmt: skip
    error_of(huge, 413, "request.too_large")
    error_of(api.client.get("/api/v1/admin/imports/999999", headers=api.auth("ada")), 404, "import.not_found")


def test_admin_reindex(api: Api) -> None:
    r = api.client.post("/api/v1/admin/reindex", headers=api.auth("ada"))
    assert r.status_code == 200 and set(r.json()) == {"memory", "index", "expertise", "seconds"}
    # The warm memory handle follows the rebuilt index.
    again = api.client.post("/api/v1/ask", json={"question": CANARY_QUESTION}, headers=api.auth("ida"))
    assert SECRET in again.text
