"""Top performers' know-how: how much of what the best performers know is in memory and reaches others.

Input: an optional CSV with a header, one row per person: a person reference (e-mail, @handle, full name or
``#id``) and a numeric metric (e.g. quota attainment; ``112%`` is read as 112). Column names are matched
case-insensitively (person: ``person``, ``email``, ``name``, ``id``, ``employee``; value: ``value``, ``metric``,
``quota_attainment``, ``attainment``, ``score``), else the first and second columns are used. Unknown people and
bad values are reported with the file and line and skipped; the rest is used.

Top performers are the top quarter by the metric. *Reuse* — no retrieval log exists yet — is counted as later
questions by other people that are near-duplicates (TF-IDF cosine ≥ ``REUSE_COSINE``) of a question a top performer
answered: questions their solution in memory would answer.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from whoknows.access import Viewer
from whoknows.analytics.errors import PerformanceFileError
from whoknows.analytics.ledger import HelpEvent
from whoknows.analytics.metrics import department_of
from whoknows.analytics.rows import PersonRow
from whoknows.analytics.topics import Topics
from whoknows.errors import NotFoundError
from whoknows.store import Store

PERSON_COLUMNS = ("person", "email", "e-mail", "name", "id", "employee")
VALUE_COLUMNS = ("value", "metric", "quota_attainment", "attainment", "quota", "score")
REUSE_COSINE = 0.5
TOP_SHARE = 0.25


@dataclass
class PerformanceRow:
    person_id: int
    value: float
    line: int


def read_performance(store: Store, path: Path, viewer: Viewer) -> tuple[list[PerformanceRow], list[str]]:
    """The rows of ``path`` that name a person ``viewer`` may see, and one warning per skipped line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise PerformanceFileError(f"cannot read the performance file {path}: {exc.strerror or exc}") from None
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if not header or len(header) < 2:
        raise PerformanceFileError(f"{path}:1: expected a header with a person column and a value column")
    names = [h.strip().lower() for h in header]
    p_col = next((names.index(c) for c in PERSON_COLUMNS if c in names), 0)
    v_col = next((names.index(c) for c in VALUE_COLUMNS if c in names), 1 if p_col != 1 else 0)
    rows: list[PerformanceRow] = []
    warnings: list[str] = []
    seen: dict[int, int] = {}
    for line, record in enumerate(reader, start=2):
        if not record or not any(c.strip() for c in record):
            continue
        if len(record) <= max(p_col, v_col):
            warnings.append(f"{path}:{line}: expected {max(p_col, v_col) + 1} columns, got {len(record)}; skipped")
            continue
        ref, raw = record[p_col].strip(), record[v_col].strip().rstrip("%").replace(",", "")
        try:
            value = float(raw)
            if not math.isfinite(value):
                raise ValueError
        except ValueError:
            warnings.append(f"{path}:{line}: value {record[v_col].strip()!r} of {ref!r} is not a number; skipped")
            continue
        try:
            person = store.find_person(ref, viewer)
        except NotFoundError as exc:
            warnings.append(f"{path}:{line}: {exc.message}; skipped")
            continue
        assert person.id is not None
        if person.id in seen:
            warnings.append(f"{path}:{line}: {ref!r} is the same person as line {seen[person.id]}; skipped")
            continue
        seen[person.id] = line
        rows.append(PerformanceRow(person.id, value, line))
    return rows, warnings


@dataclass
class KnowHow:
    """Know-how of one group of people (top performers, or everyone else who helps)."""

    people: int
    answered: int = 0  # questions of others they answered
    help_events: int = 0
    in_memory_share: float = 0.0  # share of their help events captured as a solution/accepted answer
    reached_people: int = 0
    reached_departments: int = 0
    reuse: int = 0  # later near-duplicate questions by others their answers cover

    def as_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["in_memory_share"] = round(self.in_memory_share, 3)
        d["answered_per_person"] = round(self.answered / self.people, 2) if self.people else 0.0
        return d


@dataclass
class PerformersReport:
    matched: int
    top: KnowHow | None  # None when the group is smaller than the minimum group size
    rest: KnowHow | None
    individuals: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"matched": self.matched, "top": self.top.as_dict() if self.top else None,
                "rest": self.rest.as_dict() if self.rest else None, "individuals": self.individuals,
                "warnings": self.warnings, "note": self.note}  # fmt: skip


def know_how(
    group: set[int],
    events: Sequence[HelpEvent],
    people: Mapping[int, PersonRow],
    topics: Topics,
    asked: Mapping[int, tuple[int | None, datetime]],
) -> KnowHow:
    mine = [e for e in events if e.helper_id in group]
    strong = [e for e in mine if e.strong]
    reached = {e.helped_id for e in mine}
    answered_q = sorted({e.question_id for e in strong})
    return KnowHow(
        people=len(group),
        answered=len(answered_q),
        help_events=len(mine),
        in_memory_share=len(strong) / len(mine) if mine else 0.0,
        reached_people=len(reached),
        reached_departments=len({department_of(people[p]) for p in reached}),
        reuse=reuse_count(answered_q, topics, asked),
    )


def reuse_count(question_ids: Sequence[int], topics: Topics, asked: Mapping[int, tuple[int | None, datetime]]) -> int:
    """Later questions by other askers that are near-duplicates (cosine ≥ REUSE_COSINE) of ``question_ids``."""
    x = topics.vectors
    if x is None or not question_ids:
        return 0
    pos = {q: i for i, q in enumerate(topics.question_ids)}
    rows = [pos[q] for q in question_ids if q in pos]
    ids = np.asarray(topics.question_ids)
    times = np.array([asked[q][1].timestamp() if q in asked else 0.0 for q in topics.question_ids])
    askers = np.array([(asked[q][0] or -1) if q in asked else -1 for q in topics.question_ids])
    covered: set[int] = set()
    xt = x.T.tocsc()
    for start in range(0, len(rows), 1_000):
        chunk = rows[start : start + 1_000]
        sims = (x[chunk] @ xt).tocoo()
        keep = sims.data >= REUSE_COSINE
        for r, c in zip(sims.row[keep].tolist(), sims.col[keep].tolist(), strict=True):
            i = chunk[r]
            if c != i and times[c] > times[i] and askers[c] != askers[i]:
                covered.add(int(ids[c]))
    return len(covered)
