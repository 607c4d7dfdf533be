"""Organisation-wide measures: the collaboration index, its monthly trend, silos and overload.

Collaboration index (0–100), over the counted help events of a period and the people active in it (who gave or
received help):

* participation  P = helpers / active people
* mixing         X = min(1, cross-department share of help / expected share), expected = 1 − Σ_d s_d² with s_d
  the share of active people in department d (what random mixing would give); undefined with one department
* evenness       E = 1 − Gini(help given per active person)
* responsiveness R = answered questions / questions asked (an answer = a strong help event)

index = 100 × (0.25 P + 0.30 X + 0.20 E + 0.25 R) / (sum of the weights of the defined components).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from whoknows.analytics.ledger import HelpEvent
from whoknows.analytics.metrics import GroupStats, department_of
from whoknows.analytics.rows import PersonRow

WEIGHTS = {"participation": 0.25, "mixing": 0.30, "evenness": 0.20, "responsiveness": 0.25}
SILO_RATIO = 0.5  # a group is a silo when its external share is below half of what random mixing would give


@dataclass
class Index:
    value: float | None
    components: dict[str, float | None]

    def as_dict(self) -> dict[str, Any]:
        return {"value": None if self.value is None else round(self.value, 1),
                "components": {k: None if v is None else round(v, 3) for k, v in self.components.items()}}  # fmt: skip


def gini(values: Sequence[float]) -> float:
    x = np.sort(np.asarray(values, dtype=float))
    if len(x) == 0 or x.sum() == 0:
        return 0.0
    n = len(x)
    return float((2 * np.arange(1, n + 1) - n - 1) @ x / (n * x.sum()))


def collaboration_index(events: Sequence[HelpEvent], people: Mapping[int, PersonRow], questions: int) -> Index:
    if not events:
        return Index(None, dict.fromkeys(WEIGHTS))
    given: dict[int, float] = defaultdict(float)
    active: set[int] = set()
    for e in events:
        given[e.helper_id] += e.weight
        active |= {e.helper_id, e.helped_id}
    total = sum(e.weight for e in events)
    cross = sum(e.weight for e in events if department_of(people[e.helper_id]) != department_of(people[e.helped_id]))
    dept_sizes: dict[str, int] = defaultdict(int)
    for pid in active:
        dept_sizes[department_of(people[pid])] += 1
    expected = 1 - sum((n / len(active)) ** 2 for n in dept_sizes.values())
    answered = len({e.question_id for e in events if e.strong})
    parts: dict[str, float | None] = {
        "participation": len(given) / len(active),
        "mixing": min(1.0, (cross / total) / expected) if expected > 0 and total > 0 else None,
        "evenness": 1 - gini([given.get(p, 0.0) for p in active]),
        "responsiveness": min(1.0, answered / questions) if questions else None,
    }
    defined = {k: v for k, v in parts.items() if v is not None}
    weight = sum(WEIGHTS[k] for k in defined)
    value = 100 * sum(WEIGHTS[k] * v for k, v in defined.items()) / weight if weight else None
    return Index(value, parts)


@dataclass
class Month:
    month: str
    events: int
    help: float
    active_people: int
    cross_department_share: float
    index: float | None
    suppressed: bool = False

    def as_dict(self) -> dict[str, Any]:
        if self.suppressed:
            return {"month": self.month, "suppressed": True}
        return {"month": self.month, "events": self.events, "help": round(self.help, 2),
                "active_people": self.active_people, "cross_department_share": round(self.cross_department_share, 3),
                "index": None if self.index is None else round(self.index, 1), "suppressed": False}  # fmt: skip


def monthly_trend(
    events: Sequence[HelpEvent], people: Mapping[int, PersonRow], questions_per_month: Mapping[str, int], min_group: int
) -> list[Month]:
    by_month: dict[str, list[HelpEvent]] = defaultdict(list)
    for e in events:
        by_month[e.at.strftime("%Y-%m")].append(e)
    out = []
    for month in sorted(set(by_month) | set(questions_per_month)):
        evs = by_month.get(month, [])
        active = {p for e in evs for p in (e.helper_id, e.helped_id)}
        total = sum(e.weight for e in evs)
        cross = sum(e.weight for e in evs if department_of(people[e.helper_id]) != department_of(people[e.helped_id]))
        index = collaboration_index(evs, people, questions_per_month.get(month, 0)).value
        out.append(
            Month(month, len(evs), total, len(active), cross / total if total else 0.0, index, len(active) < min_group)
        )
    return out


@dataclass
class Silo:
    group: str
    people: int
    external_share: float
    expected_share: float
    ratio: float
    partners: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"group": self.group, "people": self.people, "external_share": round(self.external_share, 3),
                "expected_share": round(self.expected_share, 3), "ratio": round(self.ratio, 3),
                "partners": self.partners}  # fmt: skip


def silos(groups: Iterable[GroupStats], active_people: int, *, ratio: float = SILO_RATIO) -> list[Silo]:
    """Shown groups whose share of help crossing their boundary is below ``ratio`` × the share random mixing would
    give (1 − (n − 1)/(N − 1) for a group of n among N active people), lowest ratio first."""
    out = []
    for g in groups:
        if g.suppressed or active_people < 2 or g.people >= active_people:
            continue
        expected = 1 - (g.people - 1) / (active_people - 1)
        r = g.external_share / expected if expected > 0 else 1.0
        if r < ratio:
            out.append(Silo(g.name, g.people, g.external_share, expected, r, g.partners))
    return sorted(out, key=lambda s: (s.ratio, s.group))


@dataclass
class Overload:
    helpers: int
    top_helpers: int
    top_share: float  # share of all help given by the top 5% of helpers

    def as_dict(self) -> dict[str, Any]:
        return {"helpers": self.helpers, "top_helpers": self.top_helpers, "top_share": round(self.top_share, 3)}


def overload(events: Iterable[HelpEvent], *, top: float = 0.05) -> Overload:
    given: dict[int, float] = defaultdict(float)
    for e in events:
        given[e.helper_id] += e.weight
    values = sorted(given.values(), reverse=True)
    n_top = math.ceil(top * len(values)) if values else 0
    total = sum(values)
    return Overload(len(values), n_top, sum(values[:n_top]) / total if total else 0.0)
