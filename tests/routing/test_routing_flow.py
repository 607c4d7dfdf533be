"""The full loop on a real demo org and a real SMTP server: ask -> route -> notify -> answer -> captured -> feedback."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from routing_fixtures import Mailbox, Org
from sqlalchemy import delete, func, select

from whoknows.memory.ask import ask
from whoknows.routing import accept, answer, ask_or_route, decline, forward, inbox, run_once, set_prefs
from whoknows.routing.errors import RoutingError, RoutingNotFound, RoutingStateError
from whoknows.store import schema

QUESTION = "can we sign a BAA for HIPAA?"
MONDAY_NOON = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)  # working hours in the Americas and Europe


def test_full_loop(org: Org, smtp_server: Mailbox) -> None:
    result = ask_or_route(
        org.store, org.data_dir, QUESTION, 5, route="always", k=2, settings=org.settings, now=MONDAY_NOON, urgency="now"
    )
    assert result.routed and result.question_id and len(result.asked) == 2
    assert all(a["reasons"] and "ranked #" in a["reasons"][0] for a in result.asked)
    assert {a["reaches"] for a in result.asked} == {"email"}  # an SMTP server is configured here
    stats = run_once(org.store, org.settings, org.data_dir, now=MONDAY_NOON)
    assert stats.sent == 2, stats.errors
    mails = smtp_server.wait(2)
    assert len(mails) == 2 and all("Can you help?" in m["Subject"] for m in mails)
    first = result.asked[0]
    assert [i["assignment_id"] for i in inbox(org.store, org.store.viewer(first["person_id"]))] == [
        first["assignment_id"]
    ]
    text = "Yes: Legal signs our standard BAA template within 2 days; ask in #legal-ops and attach the DPA."
    done = answer(org.store, org.data_dir, first["assignment_id"], text, first["person_id"], now=MONDAY_NOON)
    assert done["closed"] == [result.asked[1]["assignment_id"]]  # the other request is closed, not escalated
    with pytest.raises(RoutingStateError):
        answer(org.store, org.data_dir, first["assignment_id"], "again", first["person_id"])
    # captured: a message credited to the expert, in a space only asker + expert may read, found by ask
    with org.store.read() as conn:
        msg = conn.execute(select(schema.messages).where(schema.messages.c.id == done["message_id"])).one()
    assert msg.author_id == first["person_id"]
    assert msg.space_id in org.store.viewer(5).spaces
    assert msg.space_id in org.store.viewer(first["person_id"]).spaces
    assert msg.space_id not in org.store.viewer(None).spaces
    hits = ask(org.store, org.data_dir, QUESTION, org.store.viewer(5), k=20).solutions
    assert any(h.solution_id == done["message_id"] for h in hits)
    assert hits[0].solved_by is not None
    # the asker is told (second worker round sends the answer mail), then accepts: the model learns
    run_once(org.store, org.settings, org.data_dir, now=MONDAY_NOON)
    assert any("answered" in m["Subject"] for m in smtp_server.wait(3))
    with pytest.raises(RoutingNotFound) as theirs:  # not the asker: the question does not exist for them
        accept(org.store, org.data_dir, result.question_id, first["person_id"])
    with pytest.raises(RoutingNotFound) as none:
        accept(org.store, org.data_dir, 10**9, first["person_id"])
    assert theirs.value.code == none.value.code
    assert theirs.value.message == none.value.message.replace(str(10**9), str(result.question_id))
    acc = accept(org.store, org.data_dir, result.question_id, 5, rating=5)
    assert acc["outcomes_applied"] >= 1
    with org.store.read() as conn:
        pending = conn.execute(
            select(func.count()).select_from(schema.route_outcomes).where(schema.route_outcomes.c.applied_at.is_(None))
        ).scalar()
        assert pending == 0
        assert conn.execute(
            select(schema.messages.c.accepted).where(schema.messages.c.id == done["message_id"])
        ).scalar()


def test_memory_answer_is_not_routed(org: Org) -> None:
    result = ask_or_route(org.store, org.data_dir, QUESTION, 5, settings=org.settings)
    assert result.confidence >= org.settings.routing_threshold
    assert not result.routed and "memory answered" in result.reason


def test_unknown_asker_and_empty_question(org: Org) -> None:
    with pytest.raises(RoutingNotFound) as exc:
        ask_or_route(org.store, org.data_dir, QUESTION, 99999, settings=org.settings)
    assert exc.value.code == "routing.unknown_asker"
    with pytest.raises(RoutingError):
        ask_or_route(org.store, org.data_dir, "  ", 5, settings=org.settings)


def test_decline_learns_and_escalates_forward_creates_assignment(org: Org) -> None:
    r = ask_or_route(org.store, org.data_dir, QUESTION, 5, route="always", k=1, settings=org.settings, now=MONDAY_NOON)
    a = r.asked[0]
    with pytest.raises(RoutingNotFound) as theirs:  # someone else's assignment answers as a missing one
        decline(org.store, org.data_dir, a["assignment_id"], 5)
    with pytest.raises(RoutingNotFound) as none:
        decline(org.store, org.data_dir, 10**9, 5)
    assert theirs.value.code == none.value.code == "routing.assignment_not_found"
    assert theirs.value.message == none.value.message.replace(str(10**9), str(a["assignment_id"]))
    d = decline(org.store, org.data_dir, a["assignment_id"], a["person_id"], settings=org.settings, now=MONDAY_NOON)
    assert d["learned"] and d["outcomes_applied"] == 1 and len(d["next"]) == 1
    nxt = next(x for x in d["assignments"] if x["state"] == "notified")
    assert nxt["attempt"] == 2
    f = forward(org.store, nxt["assignment_id"], nxt["person_id"], 7, settings=org.settings, now=MONDAY_NOON)
    states = {x["person_id"]: x["state"] for x in f["assignments"]}
    assert states[nxt["person_id"]] == "forwarded" and states[7] == "notified"


def test_timeout_escalates_then_gives_up(org: Org) -> None:
    r = ask_or_route(
        org.store, org.data_dir, QUESTION, 5, route="always", k=3, settings=org.settings, now=MONDAY_NOON, urgency="now"
    )
    first = {a["person_id"] for a in r.asked}
    later = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)  # past the 24 h escalation timeout, still working hours
    stats = run_once(org.store, org.settings, org.data_dir, now=later, learn=False)
    assert stats.expired == 3 and stats.escalated == 1
    with org.store.read() as conn:
        ra = schema.route_assignments
        rows = conn.execute(
            select(ra.c.expert_id, ra.c.attempt, ra.c.state).where(ra.c.question_id == r.question_id)
        ).all()
    second = {e for e, att, st in rows if att == 2}
    assert second and not (second & first)


def test_expert_who_left_is_replaced(org: Org) -> None:
    r = ask_or_route(org.store, org.data_dir, QUESTION, 5, route="always", k=1, settings=org.settings, now=MONDAY_NOON)
    gone = r.asked[0]["person_id"]
    with org.store.write() as conn:  # erased: everything about them goes (ON DELETE CASCADE / SET NULL)
        conn.execute(delete(schema.people).where(schema.people.c.id == gone))
    stats = run_once(org.store, org.settings, org.data_dir, now=MONDAY_NOON, learn=False)
    assert stats.escalated == 1
    assert inbox(org.store, org.store.viewer(gone)) == []


def test_preferences_are_respected(org: Org) -> None:
    base = ask_or_route(
        org.store, org.data_dir, QUESTION, 5, route="always", k=1, settings=org.settings, now=MONDAY_NOON
    )
    top = base.asked[0]["person_id"]
    set_prefs(org.store, top, routing_opt_out=True)
    r = ask_or_route(org.store, org.data_dir, QUESTION, 5, route="always", k=1, settings=org.settings, now=MONDAY_NOON)
    assert r.asked[0]["person_id"] != top
    assert any("opted out" in s["why"] for s in r.skipped)


def test_an_accepted_answer_is_found_by_the_next_colleague_until_the_expert_objects(org: Org) -> None:
    """Reuse: the asker shares the accepted answer (default: where the question's topic came from); another
    colleague asking the same question is answered from memory; the expert takes it back and it is private again."""
    from whoknows.routing import unshare

    r = ask_or_route(org.store, org.data_dir, QUESTION, 5, route="always", k=1, settings=org.settings, now=MONDAY_NOON)
    expert = r.asked[0]["person_id"]
    text = "Zebrafish rule: Legal countersigns the HIPAA BAA within 2 days once the customer is on Enterprise."
    done = answer(org.store, org.data_dir, r.asked[0]["assignment_id"], text, expert, now=MONDAY_NOON)
    colleague = next(p for p in (6, 7, 8, 9, 10) if p != expert)

    def found_by(person: int) -> bool:
        hits = ask(org.store, org.data_dir, "zebrafish rule for the HIPAA BAA", org.store.viewer(person), k=20)
        return any(h.solution_id == done["message_id"] for h in hits.solutions)

    assert found_by(5) and not found_by(colleague)  # before acceptance: asker and expert only
    with pytest.raises(RoutingError) as bad:
        accept(org.store, org.data_dir, r.question_id, 5, share="the whole world")
    assert bad.value.code == "routing.bad_share"
    acc = accept(org.store, org.data_dir, r.question_id, 5, learn_now=False)
    assert acc["shared"]["share"] == "topic" and acc["shared"]["with"]
    assert found_by(colleague)
    with pytest.raises(RoutingNotFound):
        unshare(org.store, r.question_id, colleague)  # only the expert (or the asker) may take it back
    assert unshare(org.store, r.question_id, expert)["share"] == "private"
    assert not found_by(colleague) and found_by(5) and found_by(expert)


def test_sharing_the_accepted_answer_shares_no_one_elses(org: Org) -> None:
    """A second expert's reply in the same routed thread (a late one) stays private when the asker shares the
    accepted answer: it is set apart where only the asker and its author may read it."""
    from whoknows.routing.capture import store_answer

    r = ask_or_route(org.store, org.data_dir, QUESTION, 5, route="always", k=1, settings=org.settings, now=MONDAY_NOON)
    expert = r.asked[0]["person_id"]
    other = next(p for p in (6, 7, 8, 9, 10) if p != expert)
    colleague = next(p for p in (11, 12, 13, 14) if p not in (expert, other))
    done = answer(org.store, org.data_dir, r.asked[0]["assignment_id"], "Legal signs the BAA.", expert, now=MONDAY_NOON)
    rq, m = schema.routed_questions, schema.messages
    with org.store.write() as conn:
        q = conn.execute(select(rq).where(rq.c.id == r.question_id)).one()
        late, _ = store_answer(conn, q, other, "Between us: the BAA template is outdated.", "late", MONDAY_NOON)
    accept(org.store, org.data_dir, r.question_id, 5, learn_now=False, share="everyone")
    with org.store.read() as conn:
        space_of = dict(conn.execute(select(m.c.id, m.c.space_id).where(m.c.id.in_([done["message_id"], late]))).all())
    assert space_of[done["message_id"]] in org.store.viewer(colleague).spaces
    assert space_of[late] not in org.store.viewer(colleague).spaces
    assert space_of[late] in org.store.viewer(5).spaces and space_of[late] in org.store.viewer(other).spaces
