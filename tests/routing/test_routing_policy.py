"""The routing policy (pure): hard rules, working hours, and spreading work among nearly-as-qualified experts."""

from __future__ import annotations

from datetime import UTC, datetime

from whoknows.routing.policy import Candidate, choose
from whoknows.routing.prefs import Prefs

NOON_UTC = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday


def cand(pid: int, score: float, load: int = 0, tz: str = "Europe/London", **prefs: object) -> Candidate:
    return Candidate(pid, f"P{pid}", score, Prefs(pid, **prefs), tz, open_load=load)  # type: ignore[arg-type]


def test_plain_is_top_k_and_balanced_prefers_less_loaded_near_ties() -> None:
    cs = [cand(1, 10.0, load=4), cand(2, 9.0), cand(3, 8.5), cand(4, 5.0)]
    assert [p.person_id for p in choose(cs, 2, NOON_UTC, mode="plain").picks] == [1, 2]
    picks = choose(cs, 2, NOON_UTC, margin=0.8).picks
    assert [p.person_id for p in picks] == [2, 3]  # 1 is busy; 4 is not nearly as qualified
    assert any("less busy" in r for r in picks[0].reasons)
    assert [p.person_id for p in choose(cs, 2, NOON_UTC, margin=1.0).picks] == [1, 2]


def test_hard_rules() -> None:
    later = datetime(2026, 12, 24, tzinfo=UTC)
    cs = [
        cand(1, 10.0, routing_opt_out=True),
        cand(2, 9.9, hidden_topics=["hipaa"]),
        cand(3, 9.8, ooo_until=later),
        cand(4, 9.7, weekly_budget=0),
        cand(5, 9.0),
    ]
    sel = choose(cs, 3, NOON_UTC, topic_terms={"hipaa", "baa"})
    assert [p.person_id for p in sel.picks] == [5]
    whys = " | ".join(s["why"] for s in sel.skipped)
    assert "opted out" in whys and "hipaa" in whys and "out of office" in whys and "budget" in whys


def test_working_hours_prefer_awake_and_delay_when_everyone_sleeps() -> None:
    cs = [cand(1, 10.0, tz="Asia/Tokyo"), cand(2, 9.5, tz="Europe/Berlin")]  # 21:00 in Tokyo, 13:00 in Berlin
    assert [p.person_id for p in choose(cs, 1, NOON_UTC).picks] == [2]
    night = [cand(1, 10.0, tz="Asia/Tokyo")]
    pick = choose(night, 1, NOON_UTC).picks[0]
    assert pick.not_before is not None and pick.not_before > NOON_UTC
    assert pick.not_before.astimezone().astimezone(datetime.now().astimezone().tzinfo)  # a real instant
    assert "start of their day" in pick.reasons[-1]


def test_negative_scores_and_empty() -> None:
    assert choose([], 3, NOON_UTC).picks == []
    cs = [cand(1, -1.0, load=3), cand(2, -1.1)]
    assert [p.person_id for p in choose(cs, 1, NOON_UTC).picks] == [2]
