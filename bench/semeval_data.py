"""Reader for SemEval-2016 Task 3 (English, Qatar Living) XML: original questions, related threads, comments."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

RELEVANT_B = {"PerfectMatch", "Relevant"}
RELEVANT_C = {"Good"}


@dataclass
class Comment:
    id: str
    text: str
    label: str
    user: str = ""


@dataclass
class Related:
    id: str
    subject: str
    body: str
    engine_rank: int
    label: str
    comments: list[Comment] = field(default_factory=list)
    user: str = ""

    @property
    def text(self) -> str:
        return f"{self.subject}. {self.body}"


@dataclass
class Original:
    id: str
    subject: str
    body: str
    related: list[Related] = field(default_factory=list)

    @property
    def text(self) -> str:
        return f"{self.subject}. {self.body}"


def _text(el: ET.Element | None) -> str:
    return (el.text or "").strip() if el is not None else ""


def load(path: Path) -> list[Original]:
    root = ET.parse(path).getroot()
    by_id: dict[str, Original] = {}  # an original question is repeated once per related thread
    for oq in root.iter("OrgQuestion"):
        qid = oq.attrib["ORGQ_ID"]
        orig = by_id.setdefault(qid, Original(qid, _text(oq.find("OrgQSubject")), _text(oq.find("OrgQBody"))))
        for th in oq.iter("Thread"):
            rq = th.find("RelQuestion")
            assert rq is not None
            rel = Related(
                rq.attrib["RELQ_ID"],
                _text(rq.find("RelQSubject")),
                _text(rq.find("RelQBody")),
                int(rq.attrib["RELQ_RANKING_ORDER"]),
                rq.attrib["RELQ_RELEVANCE2ORGQ"],
                user=rq.attrib.get("RELQ_USERID", ""),
            )
            for c in th.iter("RelComment"):
                rel.comments.append(
                    Comment(
                        c.attrib["RELC_ID"],
                        _text(c.find("RelCText")),
                        c.attrib["RELC_RELEVANCE2ORGQ"],
                        c.attrib.get("RELC_USERID", ""),
                    )
                )
            orig.related.append(rel)
    return list(by_id.values())


def qrels_b(data: list[Original]) -> dict[str, dict[str, int]]:
    return {o.id: {r.id: int(r.label in RELEVANT_B) for r in o.related} for o in data}


def qrels_c(data: list[Original]) -> dict[str, dict[str, int]]:
    return {o.id: {c.id: int(c.label in RELEVANT_C) for r in o.related for c in r.comments} for o in data}


def engine_b(data: list[Original]) -> dict[str, list[str]]:
    return {o.id: [r.id for r in sorted(o.related, key=lambda r: r.engine_rank)] for o in data}


def engine_c(data: list[Original]) -> dict[str, list[str]]:
    return {o.id: [c.id for r in sorted(o.related, key=lambda r: r.engine_rank) for c in r.comments] for o in data}
