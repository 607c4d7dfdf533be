"""The routing policy (pure): hard rules, working hours, and spreading work among nearly-as-qualified experts."""

from __future__ import annotations

from datetime import UTC, datetime

from whoknows.routing.policy import URGENCY, Candidate, chance, choose
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


def test_the_best_are_deferred_to_their_day_not_replaced_by_weaker_ones_awake() -> None:
    """10:00 UTC: the three best are in Los Angeles (02:00, asleep); weaker colleagues in Berlin are at work."""
    early = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    la = [cand(1, 6.6, tz="America/Los_Angeles"), cand(2, 6.4, tz="America/Los_Angeles")]
    la.append(cand(3, 6.1, tz="America/Los_Angeles"))
    berlin = [cand(12, 3.7, tz="Europe/Berlin"), cand(13, 3.5, tz="Europe/Berlin"), cand(19, 2.0, tz="Europe/Berlin")]
    today = choose(la + berlin, 3, early, wait_until=early + URGENCY["today"])
    assert [p.person_id for p in today.picks] == [1, 2, 3]
    assert all(p.not_before is not None and p.not_before > early for p in today.picks)
    # "now": the Berlin colleagues above the floor instead (3.7 and 3.5 have a 5.2% and 4.3% chance to be the
    # better expert than 6.6: one is above the 5% floor; 2.0 is far below)
    now = choose(la + berlin, 3, early, wait_until=early + URGENCY["now"])
    assert [p.person_id for p in now.picks] == [12]
    whys = {s["name"]: s["why"] for s in now.skipped}
    assert "later than the asker can wait" in whys["P1"] and "below the 5% floor" in whys["P13"]


def test_nobody_above_the_floor_reachable_in_time_still_asks_the_best_at_their_day() -> None:
    early = datetime(2026, 11, 23, 6, 14, tzinfo=UTC)
    cs = [cand(1, 6.6, tz="America/Los_Angeles"), cand(2, 1.0, tz="Europe/Berlin")]
    sel = choose(cs, 2, early, wait_until=early)
    assert [p.person_id for p in sel.picks] == [1] and sel.picks[0].not_before is not None


def test_an_escalation_never_drops_below_the_first_rounds_floor() -> None:
    """After the best declined, the next ones are measured against the first round's best score."""
    left = [cand(5, 4.0), cand(6, -0.02)]
    sel = choose(left, 2, NOON_UTC, best_score=6.6)
    assert [p.person_id for p in sel.picks] == [5]
    assert "below the 5% floor" in sel.skipped[-1]["why"]
    assert choose(left, 2, NOON_UTC, best_score=6.6, floor=0.2).picks == []
    assert chance(6.6, 6.6) == 0.5 and 0.05 < chance(3.7, 6.6) < 0.06
