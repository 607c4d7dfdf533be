"""The routing policy: which of the ranked experts to ask, and why. Pure: no database, no clock.

Hard rules first (they are the experts' own wishes): routing opt-out, hidden topics, out-of-office, the weekly
interruption budget. Then a **floor**: only experts the ranker gives at least a ``floor`` chance of being the
better expert than the best one of the question's ranking (:func:`chance`; the best of the *first* round, so an
escalation never drifts down to people who barely match) are asked at all. **Spreading**: among those within
``margin`` of the best ("nearly as qualified") the ones at work and less loaded come first, ordered by
``closeness / (1 + load)`` where ``load`` is their open assignments plus a third of this week's; the others above
the floor follow by score. **Defer, don't demote**: in that order, someone at work is asked now, someone outside
their working hours is asked for the start of their working day (``not_before``) when that comes before
``wait_until`` (the asker's urgency, :data:`URGENCY`), and only someone whose day starts later than that is passed
over for the next in order. When nobody above the floor can be reached before ``wait_until``, the best of them is
still asked, for the start of their day.

``mode="plain"`` is the plain ranker (top-k by score after the hard rules), kept for the benchmark.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from whoknows.routing.availability import is_working, local_time, next_working_time
from whoknows.routing.prefs import Prefs

Mode = Literal["balanced", "plain"]
Urgency = Literal["now", "today", "this week"]
#: How long a question may wait for a better expert's working day: "now" asks only who is working (or, when
#: nobody within the floor is, the best at the start of their day), "today" waits up to a day, "this week" a week.
URGENCY: dict[str, timedelta] = {"now": timedelta(0), "today": timedelta(hours=24), "this week": timedelta(days=7)}


@dataclass
class Candidate:
    person_id: int
    name: str
    score: float
    prefs: Prefs
    timezone: str | None = None
    open_load: int = 0  # assignments waiting for their answer
    week_count: int = 0  # notifications in the last 7 days
    why: list[str] = field(default_factory=list)  # evidence from the ranker ("accepted answer on …")


@dataclass
class Pick:
    person_id: int
    name: str
    score: float
    reasons: list[str]
    not_before: datetime | None = None  # notify at this time (outside working hours now)


@dataclass
class Selection:
    picks: list[Pick]
    skipped: list[dict[str, str]]  # {"name": …, "why": …}


def _topic_hidden(prefs: Prefs, topic_terms: set[str]) -> str | None:
    for term in prefs.hidden_topics:
        words = set(term.lower().split())
        if words and words <= topic_terms:
            return term
    return None


def closeness(score: float, best: float) -> float:
    """How close ``score`` is to ``best`` on a 0..1 scale (ratio for positive scores, exp-difference else)."""
    if best > 0 and score > 0:
        return score / best
    return math.exp(min(0.0, score - best))


def chance(score: float, best: float) -> float:
    """The ranker's probability that this person is the better expert than the best one: the pairwise model is
    fitted so that ``sigmoid(score difference)`` is that probability."""
    return 1.0 / (1.0 + math.exp(min(50.0, best - score)))


def choose(
    candidates: list[Candidate],
    k: int,
    now: datetime,
    *,
    topic_terms: set[str] | frozenset[str] = frozenset(),
    margin: float = 0.8,
    default_budget: int = 10,
    mode: Mode = "balanced",
    wait_until: datetime | None = None,
    best_score: float | None = None,
    floor: float = 0.05,
) -> Selection:
    """``wait_until``: the latest start of a working day worth waiting for (None: no limit); ``best_score``: the
    best score of the question's first ranking (the floor's reference in escalations; default: the best here)."""
    skipped: list[dict[str, str]] = []
    eligible: list[Candidate] = []
    terms = {t.lower() for t in topic_terms}
    for c in sorted(candidates, key=lambda c: (-c.score, c.person_id)):
        p = c.prefs
        budget = p.weekly_budget if p.weekly_budget is not None else default_budget
        hidden = _topic_hidden(p, terms)
        if p.routing_opt_out:
            skipped.append({"name": c.name, "why": "has opted out of routed questions"})
        elif hidden is not None:
            skipped.append({"name": c.name, "why": f"does not take questions about {hidden!r}"})
        elif p.current_ooo(now) is not None:
            skipped.append({"name": c.name, "why": f"out of office until {p.ooo_until:%Y-%m-%d}"})
        elif c.week_count >= budget:
            skipped.append({"name": c.name, "why": f"weekly interruption budget reached ({budget})"})
        else:
            eligible.append(c)
    if not eligible:
        return Selection([], skipped)
    if mode == "plain":
        return Selection([_pick(c, eligible, eligible[0].score, now, False) for c in eligible[:k]], skipped)
    best = max(eligible[0].score, best_score) if best_score is not None else eligible[0].score
    allowed = [c for c in eligible if c.score >= best or chance(c.score, best) >= floor]
    below = [c for c in eligible if c not in allowed]

    def awake(c: Candidate) -> bool:
        return is_working(now, c.timezone, c.prefs)

    # The nearly-as-qualified first (the awake and less loaded of them before the others), then the rest
    # above the floor by score.
    near = [c for c in allowed if closeness(c.score, best) >= margin]
    near.sort(key=lambda c: (not awake(c), -closeness(c.score, best) / (1 + c.open_load + c.week_count / 3)))
    order = near + [c for c in allowed if c not in near]
    chosen: list[Candidate] = []
    late: list[Candidate] = []
    for c in order:
        if len(chosen) == k:
            break
        if awake(c) or wait_until is None or next_working_time(now, c.timezone, c.prefs) <= wait_until:
            chosen.append(c)
        else:
            late.append(c)
    if not chosen and late:  # nobody above the floor before the asker's deadline: the best, at their day's start
        chosen = [min(late, key=lambda c: (-c.score, c.person_id))]
    picks = [_pick(c, eligible, best, now, closeness(c.score, best) >= margin) for c in chosen]
    if any(awake(c) for c in chosen):
        instead = "a colleague who is working was asked"
    elif chosen and chosen[0] in late:
        instead = "the best of them was asked, for the start of their day"
    else:
        instead = "a colleague whose working day starts sooner was asked"
    for c in late:
        if c not in chosen:
            when = next_working_time(now, c.timezone, c.prefs)
            skipped.append(
                {
                    "name": c.name,
                    "why": f"outside working hours until {local_time(when, c.timezone)}, later than the asker can "
                    f"wait; {instead}",
                }
            )
    for c in near:
        if c not in chosen and c not in late and len(chosen) >= k and c in eligible[: len(chosen)]:
            skipped.append({"name": c.name, "why": f"busier than equally qualified colleagues ({c.open_load} open)"})
    if len(chosen) < k:
        for c in below[: k - len(chosen)]:
            skipped.append(
                {
                    "name": c.name,
                    "why": f"not asked: {chance(c.score, best):.1%} chance to be the better expert than the best, "
                    f"below the {floor:.0%} floor",
                }
            )
    return Selection(picks, skipped)


def _pick(c: Candidate, eligible: list[Candidate], best: float, now: datetime, near: bool) -> Pick:
    """``near``: within the spread margin of the best (said so when they were preferred to a better one)."""
    rank = eligible.index(c) + 1
    reasons = [f"ranked #{rank} for this question by the expertise model (score {c.score:.2f})"]
    reasons += c.why[:2]
    if near and rank > 1:
        reasons.append(
            f"nearly as qualified as the top expert ({closeness(c.score, best):.0%} of the best score) and "
            f"less busy ({c.open_load} open questions, {c.week_count} this week)"
        )
    not_before = None
    if is_working(now, c.timezone, c.prefs):
        reasons.append(f"available now ({local_time(now, c.timezone)})")
    else:
        not_before = next_working_time(now, c.timezone, c.prefs)
        reasons.append(
            f"outside working hours ({local_time(now, c.timezone)}); notified at the start of their day "
            f"({local_time(not_before, c.timezone)})"
        )
    return Pick(c.person_id, c.name, c.score, reasons, not_before)
