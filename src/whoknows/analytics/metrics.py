"""Per-person and per-group (department, team) metrics over a list of counted help events."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from statistics import median
from typing import Any

from whoknows.analytics.ledger import HelpEvent
from whoknows.analytics.rows import PersonRow

NO_DEPARTMENT = "(no department)"
NO_TEAM = "(no team)"


def department_of(p: PersonRow) -> str:
    return p.department or NO_DEPARTMENT


def team_of(p: PersonRow) -> tuple[str, str]:
    return (department_of(p), p.team or NO_TEAM)


@dataclass
class PersonStats:
    person_id: int
    name: str
    department: str
    team: str
    given: float = 0.0  # help units (event weights)
    received: float = 0.0
    answered: int = 0  # questions of others this person answered (strong events)
    helped_people: int = 0
    helped_departments: int = 0
    helped_by_people: int = 0

    @property
    def balance(self) -> float:
        """(given − received) / (given + received): +1 only gives, −1 only takes."""
        total = self.given + self.received
        return (self.given - self.received) / total if total else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "given": round(self.given, 2), "received": round(self.received, 2),
                "balance": round(self.balance, 3)}  # fmt: skip


def person_stats(events: Iterable[HelpEvent], people: Mapping[int, PersonRow]) -> dict[int, PersonStats]:
    out: dict[int, PersonStats] = {}
    helped: dict[int, set[int]] = defaultdict(set)
    helped_by: dict[int, set[int]] = defaultdict(set)

    def get(pid: int) -> PersonStats:
        if pid not in out:
            p = people[pid]
            out[pid] = PersonStats(pid, p.name, department_of(p), p.team or NO_TEAM)
        return out[pid]

    for e in events:
        giver, taker = get(e.helper_id), get(e.helped_id)
        giver.given += e.weight
        taker.received += e.weight
        giver.answered += e.strong
        helped[e.helper_id].add(e.helped_id)
        helped_by[e.helped_id].add(e.helper_id)
    for pid, s in out.items():
        s.helped_people = len(helped[pid])
        s.helped_departments = len({department_of(people[h]) for h in helped[pid]})
        s.helped_by_people = len(helped_by[pid])
    return out


@dataclass
class GroupStats:
    """One department or team. ``people`` (distinct active people) is the size used for suppression."""

    name: str
    people: int = 0
    given: float = 0.0  # help its members gave (to anyone)
    received: float = 0.0
    internal: float = 0.0  # help between two of its members
    given_out: float = 0.0  # to people outside the group
    received_in: float = 0.0  # from people outside the group
    cross_department: float = 0.0  # help its members gave or received across department lines
    median_response_hours: float | None = None  # time from question to help, for questions its members asked
    partners: list[str] = field(default_factory=list)  # other groups it exchanged help with
    suppressed: bool = False

    @property
    def involved(self) -> float:
        return self.given + self.received - self.internal

    @property
    def balance(self) -> float:
        total = self.given + self.received
        return (self.given - self.received) / total if total else 0.0

    @property
    def external_share(self) -> float:
        """Share of the help involving the group that crosses its boundary."""
        return (self.given_out + self.received_in) / self.involved if self.involved else 0.0

    @property
    def cross_department_share(self) -> float:
        return self.cross_department / self.involved if self.involved else 0.0

    def as_dict(self) -> dict[str, Any]:
        if self.suppressed:
            return {"name": self.name, "suppressed": True}
        return {
            "name": self.name,
            "people": self.people,
            "given": round(self.given, 2),
            "received": round(self.received, 2),
            "balance": round(self.balance, 3),
            "internal": round(self.internal, 2),
            "external_share": round(self.external_share, 3),
            "cross_department_share": round(self.cross_department_share, 3),
            "median_response_hours": None if self.median_response_hours is None
            else round(self.median_response_hours, 2),
            "partners": self.partners,
            "suppressed": False,
        }  # fmt: skip


def group_stats(
    events: Iterable[HelpEvent], people: Mapping[int, PersonRow], key: Callable[[PersonRow], str]
) -> dict[str, GroupStats]:
    """Metrics per group, where ``key`` names a person's group (their department, or "department / team")."""
    out: dict[str, GroupStats] = {}
    members: dict[str, set[int]] = defaultdict(set)
    waits: dict[str, list[float]] = defaultdict(list)
    partners: dict[str, set[str]] = defaultdict(set)
    for e in events:
        hp, tp = people[e.helper_id], people[e.helped_id]
        g, t = key(hp), key(tp)
        gs = out.setdefault(g, GroupStats(g))
        ts = out.setdefault(t, GroupStats(t))
        members[g].add(e.helper_id)
        members[t].add(e.helped_id)
        gs.given += e.weight
        ts.received += e.weight
        cross = department_of(hp) != department_of(tp)
        if g == t:
            gs.internal += e.weight
            if cross:
                gs.cross_department += e.weight
        else:
            gs.given_out += e.weight
            ts.received_in += e.weight
            partners[g].add(t)
            partners[t].add(g)
            if cross:
                gs.cross_department += e.weight
                ts.cross_department += e.weight
        if e.strong:
            waits[t].append(e.response_hours)
    for name, s in out.items():
        s.people = len(members[name])
        s.median_response_hours = median(waits[name]) if waits[name] else None
        s.partners = sorted(partners[name])
    return out


def flows(
    events: Iterable[HelpEvent], people: Mapping[int, PersonRow], key: Callable[[PersonRow], str]
) -> dict[tuple[str, str], float]:
    """Help volume between groups: (giver's group, receiver's group) → weight."""
    out: dict[tuple[str, str], float] = defaultdict(float)
    for e in events:
        out[(key(people[e.helper_id]), key(people[e.helped_id]))] += e.weight
    return dict(out)
