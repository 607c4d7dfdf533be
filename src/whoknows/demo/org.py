"""People of the demo organisation and who, secretly, knows which topic (the planted ground truth)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from whoknows.demo.catalog import (
    DEPARTMENTS,
    DOMAIN,
    FIRST_NAMES,
    LAST_NAMES,
    REGION_TIMEZONES,
    TOPICS,
    Topic,
)

# Fixed UTC offsets (hours) for working-hour simulation; DST is ignored on purpose (it is a demo).
TZ_OFFSET = {
    "America/Los_Angeles": -8,
    "America/Denver": -7,
    "America/New_York": -5,
    "America/Chicago": -6,
    "America/Toronto": -5,
    "Europe/London": 0,
    "Europe/Berlin": 1,
    "Europe/Paris": 1,
    "Europe/Madrid": 1,
    "Europe/Stockholm": 1,
    "Asia/Singapore": 8,
    "Australia/Sydney": 10,
    "Asia/Tokyo": 9,
    "Asia/Kolkata": 5,
}


@dataclass(slots=True)
class DemoPerson:
    idx: int
    external_id: str
    name: str
    email: str
    handle: str
    department: str
    team: str
    role: str
    timezone: str
    activity: float  # how much this person asks and talks, relative

    @property
    def first(self) -> str:
        return self.name.split()[0]


def _region_of(team: str, rng: random.Random) -> str:
    if "EMEA" in team:
        return "EMEA"
    if "APAC" in team:
        return "APAC"
    if "West" in team:
        return "West"
    if "East" in team or "Americas" in team:
        return "East"
    return rng.choices(("West", "East", "EMEA", "APAC"), weights=(3, 4, 3, 1.5))[0]


def build_people(rng: random.Random, n: int) -> list[DemoPerson]:
    """``n`` people spread over the departments by their headcount share (every department gets at least 3)."""
    counts = [max(3, round(d.share * n)) for d in DEPARTMENTS]
    counts[0] += n - sum(counts)  # Sales absorbs rounding
    people: list[DemoPerson] = []
    used: set[str] = set()
    for dept, count in zip(DEPARTMENTS, counts, strict=True):
        roles = [r for r, _ in dept.roles]
        role_weights = [w for _, w in dept.roles]
        for i in range(count):
            # The first people of each department cover every role, so small organisations have them all.
            role = roles[i] if i < len(roles) else rng.choices(roles, weights=role_weights)[0]
            team = dept.teams[i % len(dept.teams)] if i < len(dept.teams) else rng.choice(dept.teams)
            name = _unique_name(rng, used)
            idx = len(people)
            local = name.lower().replace(" ", ".").replace("ü", "ue").replace("ö", "oe").replace("'", "")
            region = _region_of(team, rng)
            people.append(
                DemoPerson(
                    idx=idx,
                    external_id=f"p{idx:05d}",
                    name=name,
                    email=f"{local}@{DOMAIN}",
                    handle=local.replace(".", "_"),
                    department=dept.name,
                    team=team,
                    role=role,
                    timezone=rng.choice(REGION_TIMEZONES[region]),
                    activity=rng.paretovariate(1.6),
                )
            )
    return people


def _unique_name(rng: random.Random, used: set[str]) -> str:
    for attempt in range(1000):
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        if attempt > 20:
            name = f"{name.split()[0]} {chr(65 + rng.randrange(26))}. {name.split()[1]}"
        if name not in used:
            used.add(name)
            return name
    raise RuntimeError("could not find a unique name")  # pragma: no cover - 70k+ combinations


def _matches(person: DemoPerson, spec: str) -> bool:
    dept, _, sub = spec.partition("/")
    return person.department == dept and (not sub or sub in (person.team, person.role))


def plant_experts(rng: random.Random, people: list[DemoPerson]) -> dict[str, list[tuple[int, float]]]:
    """For every topic, the people who know it and how well (weights sum to 1, most knowledgeable first).

    Earlier departments in ``Topic.experts_from`` contribute more experts. The count grows with the square
    root of the candidate pool, so large organisations have more experts per topic but each stays a minority.
    """
    experts: dict[str, list[tuple[int, float]]] = {}
    for topic in TOPICS:
        chosen: list[int] = []
        for rank, spec in enumerate(topic.experts_from):
            pool = [p.idx for p in people if _matches(p, spec) and p.idx not in chosen]
            if not pool:
                continue
            want = topic.n_experts if topic.n_experts else max(1, round(1.1 * math.sqrt(len(pool)) / (1 + rank)))
            want = min(want, 12, len(pool))
            chosen.extend(rng.sample(pool, want))
            if topic.n_experts and len(chosen) >= topic.n_experts:
                chosen = chosen[: topic.n_experts]
                break
        raw = [1.0 / (i + 1) ** 0.9 for i in range(len(chosen))]
        total = sum(raw)
        experts[topic.key] = [(pid, w / total) for pid, w in zip(chosen, raw, strict=True)]
    return experts


def askers_for(topic: Topic, people: list[DemoPerson], silo: str) -> tuple[list[int], list[float]]:
    """Who asks about ``topic`` and how often (mostly customer-facing people)."""
    from whoknows.demo.catalog import DEPARTMENTS as DEPTS

    asks = {d.name: d.asks for d in DEPTS}
    ids: list[int] = []
    weights: list[float] = []
    for p in people:
        if topic.askers_from and p.department not in topic.askers_from:
            continue
        if not topic.askers_from and p.department == silo:
            continue  # the silo asks its own people, in its own channel (see generate.py)
        ids.append(p.idx)
        weights.append(asks[p.department] * p.activity)
    return ids, weights
