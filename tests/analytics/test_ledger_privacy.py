"""Pure parts: the ledger from rows, suppression of small groups (including by difference)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from whoknows.analytics.ledger import HelpKind, events_from_space
from whoknows.analytics.privacy import suppress_nested, suppress_siblings
from whoknows.analytics.rows import MessageRow, QuestionRow, SolutionRow, SpaceRow, SpaceRows

T = datetime(2026, 1, 5, 9, tzinfo=UTC)


def _m(i: int, author: int, minutes: int, reply_to: int | None = None, accepted: bool = False) -> MessageRow:
    return MessageRow(i, 1, author, T + timedelta(minutes=minutes), reply_to, accepted, True)


def test_ledger_kinds_and_one_event_per_question_and_helper() -> None:
    rows = SpaceRows(
        SpaceRow(7, "#help", "channel"),
        [QuestionRow(1, 1, 7, 100, T, "how?")],
        [SolutionRow(1, 3, 300, 1, T + timedelta(minutes=30))],
        [_m(1, 100, 0), _m(2, 200, 10, 1), _m(3, 300, 30, 1, accepted=True), _m(4, 100, 40, 3), _m(5, 300, 50, 4)],
    )
    events = events_from_space(rows)
    by_helper = {e.helper_id: e for e in events}
    assert set(by_helper) == {200, 300}  # the asker's own messages are no help
    assert by_helper[300].kind == HelpKind.ACCEPTED and by_helper[300].weight == 1.0
    assert by_helper[300].evidence_id == 3 and by_helper[300].response_hours == 0.5
    assert by_helper[200].kind == HelpKind.REPLY and by_helper[200].weight == 0.25
    assert all(e.helped_id == 100 and e.space_id == 7 and e.source_kind == "channel" for e in events)


def test_ticket_hand_off() -> None:
    rows = SpaceRows(
        SpaceRow(8, "queue", "ticket_queue"),
        [QuestionRow(1, 1, 8, 100, T, "broken")],
        [],
        [_m(1, 100, 0), MessageRow(2, 1, 400, T + timedelta(hours=2), 1, False, False), _m(3, 500, 180, 1)],
    )
    events = events_from_space(rows)
    assert [(e.helper_id, e.kind) for e in events] == [(500, HelpKind.TICKET)]  # the internal note is not help


def test_a_small_team_cannot_be_computed_by_difference() -> None:
    # Team "c" (2 people) is hidden; "department − a − b" would reveal it, so "b" (the smallest shown) goes too.
    hidden, parent_hidden = suppress_siblings({"a": 20, "b": 6, "c": 2}, 5)
    assert hidden == {"b", "c"} and not parent_hidden
    # Hidden cells already covering the minimum together need no complement.
    assert suppress_siblings({"a": 20, "b": 3, "c": 3}, 5) == ({"b", "c"}, False)


def test_nested_suppression_hides_departments_and_their_complements() -> None:
    depts = {"Sales": 40, "Legal": 6, "Tiny": 3}
    teams = {("Sales", "East"): 30, ("Sales", "West"): 10, ("Legal", "Legal"): 6, ("Tiny", "Tiny"): 3}
    hidden_d, hidden_t = suppress_nested(depts, teams, 5)
    assert hidden_d == {"Tiny", "Legal"}  # Tiny alone is the organisation total minus the others: Legal joins it
    assert {("Tiny", "Tiny"), ("Legal", "Legal")} <= hidden_t
    assert ("Sales", "East") not in hidden_t
    for parent in depts:  # every hidden remainder covers at least the minimum
        if parent not in hidden_d:
            kids = [n for (d, _), n in teams.items() if d == parent and (d, _) in hidden_t]
            assert not kids or sum(kids) >= 5
    assert sum(depts[d] for d in hidden_d) >= 5


def test_with_topics_keeps_every_field_and_sets_the_topic() -> None:
    from dataclasses import asdict, fields, replace

    from whoknows.analytics.ledger import HelpEvent, with_topics

    t0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
    values: dict[str, object] = {f.name: None for f in fields(HelpEvent)}
    values.update(helper_id=1, helped_id=2, kind=HelpKind.ACCEPTED, weight=0.5, at=t0 + timedelta(hours=2))
    values.update(asked_at=t0, question_id=7, thread_id=8, space_id=9, source_kind="channel", evidence_id=10)
    e = HelpEvent(**values)  # type: ignore[arg-type]
    assert [asdict(x) for x in with_topics([e], {7: 3})] == [asdict(replace(e, topic=3))]
    assert with_topics([e], {})[0].topic is None
