"""``ask``: answer a question from the corporate memory, with citations, only from spaces the asker may read.

Retrieval runs on the memory index (hybrid BM25 + vectors, permission filter inside retrieval); the hits are
then re-read from the store (so a pair erased since the index was built never shows) and checked against the
asker's readable spaces a second time. Near-identical results are folded into one (``duplicates``).

Confidence of a solution = share of the question's search terms that the matched question and solution
contain, times the extractor's confidence that the reply solved its question. It is a plain, explainable
number between 0 and 1 that the routing step uses to decide whether memory was enough.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Select, bindparam, select

from whoknows.errors import InputError
from whoknows.index import Filters, SearchIndex, SearchIndexError
from whoknows.index.analyzer import analyze, analyze_query
from whoknows.memory.memory_index import store_fingerprint
from whoknows.store import Store, schema

MAX_QUESTION_CHARS = 100_000
SNIPPET_CHARS = 400
#: Jaccard similarity of two questions' terms above which they count as the same question.
DUPLICATE_JACCARD = 0.8
_SPACES = re.compile(r"\s+")


@dataclass
class PersonRef:
    id: int | None
    name: str
    department: str | None = None


@dataclass
class MemoryHit:
    """One past question from memory, with its best solution when it has one."""

    question_id: int
    score: float
    confidence: float
    question: str
    asked_by: PersonRef | None
    asked_at: str | None
    space: str
    space_kind: str
    link: str | None
    solution: str | None = None
    solved_by: PersonRef | None = None
    solution_id: int | None = None
    solution_confidence: float | None = None
    solution_signals: dict[str, float] = field(default_factory=dict)
    duplicates: list[int] = field(default_factory=list)


@dataclass
class AskResult:
    question: str
    asker_id: int | None
    solutions: list[MemoryHit]
    similar: list[MemoryHit]
    confidence: float
    reason: str | None = None
    warnings: list[str] = field(default_factory=list)
    took_ms: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class MemorySearch:
    """A warm handle on the memory index for repeated questions (the API and benchmarks keep one open)."""

    def __init__(self, store: Store, path: Path):
        self.store = store
        self.path = path
        self.index = SearchIndex.open(path)
        self.warnings: list[str] = []
        if self.index.is_stale(store_fingerprint(store)):
            self.warnings.append(
                f"the memory index at {path} is older than the database (new or changed messages since it was "
                "built); results may miss recent answers: run `whoknows reindex`"
            )

    def ask(
        self, question: str, *, asker_id: int | None = None, k: int = 5, readable: set[int] | None = None
    ) -> AskResult:
        """``readable``: the asker's readable spaces when the caller already looked them up (one request asking
        memory and experts); otherwise they are read from the store."""
        started = time.perf_counter()
        question = question or ""
        if len(question) > MAX_QUESTION_CHARS:
            raise InputError(
                f"the question is {len(question):,} characters long; at most {MAX_QUESTION_CHARS:,} are accepted",
                code="ask.too_long",
            )
        if not question.strip():
            return AskResult(question, asker_id, [], [], 0.0, reason="empty question", warnings=list(self.warnings))
        if readable is None:
            readable = self.store.readable_space_ids(asker_id)
        if not readable:
            return AskResult(
                question, asker_id, [], [], 0.0, reason="you cannot read any space", warnings=list(self.warnings)
            )
        # Solved and open questions are retrieved apart: an open question is a shorter document (no solution
        # text) and would otherwise crowd the solutions out of the top of a single ranking.
        solved = self.index.search(question, k=max(30, k * 6), filters=Filters.of(spaces=readable, kinds={"solved"}))
        if solved.reason:
            reason = {"no_searchable_terms": "the question has no searchable words (only stop words?)"}.get(
                solved.reason, solved.reason
            )
            return AskResult(question, asker_id, [], [], 0.0, reason=reason, warnings=list(self.warnings))
        open_ = self.index.search(question, k=max(10, k * 2), filters=Filters.of(spaces=readable, kinds={"open"}))
        ranked = solved.hits + open_.hits
        hits = self._load([h.doc_id for h in ranked], {h.doc_id: h.score for h in ranked}, readable)
        # Among solutions, prefer the ones the extractor is sure of: retrieval score x (0.5 + 0.5 confidence).
        hits.sort(key=lambda h: -h.score * (0.5 + 0.5 * (h.solution_confidence or 0.0)) if h.solution else 0.0)
        hits = _fold_duplicates(hits)
        solutions = [h for h in hits if h.solution is not None][:k]
        similar = [h for h in hits if h.solution is None][:k]
        terms = set(analyze_query(question))
        for hit in solutions + similar:
            hit.confidence = _coverage(terms, hit) * (hit.solution_confidence or 0.0)
        best = max((h.confidence for h in solutions), default=0.0)
        return AskResult(
            question,
            asker_id,
            solutions,
            similar,
            round(best, 4),
            reason=None if hits else "nothing in memory matches this question",
            warnings=list(self.warnings),
            took_ms=round((time.perf_counter() - started) * 1000, 2),
        )

    def _load(self, ids: list[int], scores: dict[int, float], readable: set[int]) -> list[MemoryHit]:
        if not ids:
            return []
        with self.store.read() as conn:
            pairs = {r.question_id: r for r in conn.execute(_PAIRS, {"ids": ids})}
            best = {r.question_id: r for r in conn.execute(_BEST, {"ids": ids})}
            person_ids = {r.asker_id for r in pairs.values()} | {r.solver_id for r in best.values()}
            wanted = [i for i in person_ids if i is not None]
            people = {r.id: r for r in conn.execute(_PEOPLE, {"ids": wanted})} if wanted else {}
        out: list[MemoryHit] = []
        for qid in ids:  # keep the retrieval order
            pair = pairs.get(qid)
            if pair is None or pair.space_id not in readable:  # erased since indexing, or not readable
                continue
            sol = best.get(qid)
            out.append(
                MemoryHit(
                    question_id=qid,
                    score=round(scores[qid], 6),
                    confidence=0.0,
                    question=_snippet(pair.question_text),
                    asked_by=_person(people, pair.asker_id),
                    asked_at=_iso(pair.created_at),
                    space=pair.name,
                    space_kind=pair.kind,
                    link=(sol.url if sol is not None and sol.url else None) or pair.qurl or pair.url,
                    solution=_snippet(sol.text) if sol is not None else None,
                    solved_by=_person(people, sol.solver_id) if sol is not None else None,
                    solution_id=int(sol.message_id) if sol is not None else None,
                    solution_confidence=round(float(sol.confidence), 4) if sol is not None else None,
                    solution_signals=dict(sol.signals or {}) if sol is not None else {},
                )
            )
        return out


def _statements() -> tuple[Select[Any], Select[Any], Select[Any]]:
    """The three reads behind a result list, built once (statement construction was a quarter of their cost)."""
    qp, qs, m, p, s, t = (
        schema.qa_pairs,
        schema.qa_solutions,
        schema.messages,
        schema.people,
        schema.spaces,
        schema.threads,
    )
    ids: Any = bindparam("ids", expanding=True)
    pairs = (
        select(
            qp.c.question_id,
            qp.c.question_text,
            qp.c.asker_id,
            qp.c.created_at,
            qp.c.space_id,
            s.c.name,
            s.c.kind,
            t.c.url,
            m.c.url.label("qurl"),
        )
        .join(s, s.c.id == qp.c.space_id)
        .join(t, t.c.id == qp.c.thread_id)
        .join(m, m.c.id == qp.c.question_id)
        .where(qp.c.question_id.in_(ids))
    )
    best = (
        select(qs.c.question_id, qs.c.message_id, qs.c.confidence, qs.c.solver_id, qs.c.signals, m.c.text, m.c.url)
        .join(m, m.c.id == qs.c.message_id)
        .where(qs.c.question_id.in_(ids), qs.c.rank == 1)
    )
    people = select(p.c.id, p.c.name, p.c.department, p.c.opted_out).where(p.c.id.in_(ids))
    return pairs, best, people


_PAIRS, _BEST, _PEOPLE = _statements()


def ask(store: Store, data_dir: Path, question: str, *, asker_id: int | None = None, k: int = 5) -> AskResult:
    """One-shot ``ask`` (opens the index each call; keep a :class:`MemorySearch` for many questions)."""
    from whoknows.memory.memory_index import index_path

    try:
        search = MemorySearch(store, index_path(data_dir))
    except SearchIndexError as exc:
        if exc.code == "index.missing":
            raise SearchIndexError(
                "there is no memory index yet: run `whoknows reindex` (after `whoknows demo` or an import)",
                code="index.missing",
            ) from None
        raise
    return search.ask(question, asker_id=asker_id, k=k)


def _person(people: dict[int, Any], pid: int | None) -> PersonRef | None:
    if pid is None or pid not in people:
        return None
    row = people[pid]
    if row.opted_out:  # the knowledge stays in memory, the person is not named
        return PersonRef(None, "a colleague (opted out)")
    return PersonRef(int(row.id), row.name, row.department)


def _coverage(terms: set[str], hit: MemoryHit) -> float:
    if not terms:
        return 0.0
    found = _terms(hit.question) | _terms(hit.solution or "")
    return len(terms & found) / len(terms)


@lru_cache(maxsize=4096)
def _terms(snippet: str) -> frozenset[str]:
    """The analysed terms of a result snippet (at most :data:`SNIPPET_CHARS`): popular results recur across
    questions, and analysing them again was a tenth of a question's time."""
    return frozenset(analyze(snippet))


def _fold_duplicates(hits: list[MemoryHit]) -> list[MemoryHit]:
    """Fold near-duplicates into the first, better-ranked hit: the same solution message, a solution saying
    the same thing (term Jaccard >= :data:`DUPLICATE_JACCARD`), or, for open questions, the same question."""
    kept: list[tuple[MemoryHit, frozenset[str]]] = []
    for hit in hits:
        terms = _terms(hit.solution if hit.solution is not None else hit.question)
        for first, first_terms in kept:
            if (hit.solution is None) != (first.solution is None):
                continue
            same_message = hit.solution_id is not None and hit.solution_id == first.solution_id
            union = terms | first_terms
            if same_message or (union and len(terms & first_terms) / len(union) >= DUPLICATE_JACCARD):
                first.duplicates.append(hit.question_id)
                break
        else:
            kept.append((hit, terms))
    return [h for h, _ in kept]


def _snippet(text: str | None) -> str:
    text = _SPACES.sub(" ", text or "").strip()
    return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1].rstrip() + "…"


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
