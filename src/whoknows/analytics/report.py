"""The report: every measure of one analytics run, as the viewer may see it (dataclasses with ``as_dict``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from whoknows.analytics.busfactor import TopicStats
from whoknows.analytics.metrics import GroupStats, PersonStats
from whoknows.analytics.network import Bridge
from whoknows.analytics.org import Index, Month, Overload, Silo
from whoknows.analytics.performers import PerformersReport


@dataclass
class Scope:
    viewer: str | None  # name of the viewer, None for an anonymous/admin run
    all_spaces: bool  # admin: every space; else the spaces the viewer may read
    spaces: int
    individual_access: bool
    min_group: int
    since: str | None
    until: str | None
    months: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Flow:
    source: str
    target: str
    help: float

    def as_dict(self) -> dict[str, Any]:
        return {"from": self.source, "to": self.target, "help": round(self.help, 2)}


@dataclass
class Report:
    scope: Scope
    totals: dict[str, Any] = field(default_factory=dict)
    index: Index | None = None
    trend: list[Month] = field(default_factory=list)
    departments: list[GroupStats] = field(default_factory=list)
    teams: list[GroupStats] = field(default_factory=list)
    flows: list[Flow] = field(default_factory=list)
    silos: list[Silo] = field(default_factory=list)
    team_silos: list[Silo] = field(default_factory=list)
    bridges: list[Bridge] = field(default_factory=list)
    bridges_hidden: int = 0  # bridges found but not named (no individual access)
    overload: Overload | None = None
    topics: list[TopicStats] = field(default_factory=list)
    topic_method: str = ""
    people: list[PersonStats] = field(default_factory=list)
    balance_histogram: list[tuple[str, int]] = field(default_factory=list)  # (bin label, people)
    performers: PerformersReport | None = None
    messages: list[str] = field(default_factory=list)

    @property
    def one_person_topics(self) -> list[TopicStats]:
        return [t for t in self.topics if t.one_person]

    def as_dict(self) -> dict[str, Any]:
        return {
            "scope": self.scope.as_dict(),
            "totals": self.totals,
            "collaboration_index": self.index.as_dict() if self.index else None,
            "trend": [m.as_dict() for m in self.trend],
            "departments": [g.as_dict() for g in self.departments],
            "teams": [g.as_dict() for g in self.teams],
            "flows": [f.as_dict() for f in self.flows],
            "silos": [s.as_dict() for s in self.silos],
            "team_silos": [s.as_dict() for s in self.team_silos],
            "bridges": [b.as_dict() for b in self.bridges],
            "bridges_hidden": self.bridges_hidden,
            "overload": self.overload.as_dict() if self.overload else None,
            "topics": [t.as_dict() for t in self.topics],
            "topic_method": self.topic_method,
            "one_person_topics": [t.label for t in self.one_person_topics],
            "people": [p.as_dict() for p in self.people],
            "balance_histogram": [{"bin": b, "people": n} for b, n in self.balance_histogram],
            "performers": self.performers.as_dict() if self.performers else None,
            "messages": self.messages,
        }
