"""The routing policy: which of the ranked experts to ask, and why. Pure: no database, no clock.

Hard rules first (they are the experts' own wishes): routing opt-out, hidden topics, out-of-office, the weekly
interruption budget. Then **spreading**: among the experts whose score is within ``margin`` of the best
(``score >= margin x best``) the less loaded come first, ordered by ``closeness / (1 + load)`` where ``load`` is
their open assignments plus a third of this week's; the others follow by score. Finally **availability**: people
inside their working hours are preferred; when nobody eligible is working, the best are asked anyway but the
notification waits for the start of their working day (``not_before``).

``mode="plain"`` is the plain ranker (top-k by score after the hard rules), kept for the benchmark.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from whoknows.routing.availability import is_working, local_time, next_working_time
from whoknows.routing.prefs import Prefs

Mode = Literal["balanced", "plain"]


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


def choose(
    candidates: list[Candidate],
    k: int,
    now: datetime,
    *,
    topic_terms: set[str] | frozenset[str] = frozenset(),
    margin: float = 0.8,
    default_budget: int = 10,
    mode: Mode = "balanced",
) -> Selection:
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
    best = eligible[0].score
    order = list(eligible)
    if mode == "balanced":
        near = [c for c in eligible if closeness(c.score, best) >= margin]
        rest = [c for c in eligible if closeness(c.score, best) < margin]
        near.sort(key=lambda c: (-closeness(c.score, best) / (1 + c.open_load + c.week_count / 3), c.person_id))
        order = near + rest
    working = [c for c in order if is_working(now, c.timezone, c.prefs)]
    chosen = working[:k] if working else order[:k]
    top = eligible[0]
    picks: list[Pick] = []
    for c in chosen:
        rank = eligible.index(c) + 1
        reasons = [f"ranked #{rank} for this question by the expertise model (score {c.score:.2f})"]
        reasons += c.why[:2]
        not_before = None
        if mode == "balanced" and c is not top and closeness(c.score, best) >= margin:
            reasons.append(
                f"nearly as qualified as the top expert ({closeness(c.score, best):.0%} of the best score) and "
                f"less busy ({c.open_load} open questions, {c.week_count} this week)"
            )
        if is_working(now, c.timezone, c.prefs):
            reasons.append(f"available now ({local_time(now, c.timezone)})")
        else:
            not_before = next_working_time(now, c.timezone, c.prefs)
            reasons.append(
                f"outside working hours ({local_time(now, c.timezone)}); notified at the start of their day "
                f"({local_time(not_before, c.timezone)})"
            )
        picks.append(Pick(c.person_id, c.name, c.score, reasons, not_before))
    for c in order:
        if c not in chosen and c in eligible[: len(chosen)]:
            busy = not is_working(now, c.timezone, c.prefs) and bool(working)
            skipped.append(
                {
                    "name": c.name,
                    "why": "outside working hours; colleagues who are working were asked"
                    if busy
                    else f"busier than equally qualified colleagues ({c.open_load} open questions)",
                }
            )
    return Selection(picks, skipped)
