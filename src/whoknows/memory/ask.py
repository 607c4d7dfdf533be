"""``ask``: answer a question from the corporate memory, with citations, only from spaces the asker may read.

Retrieval runs on the memory index (hybrid BM25 + vectors, permission filter inside retrieval); the hits are
then re-read from the store (so a pair erased since the index was built never shows) and checked against the
asker's readable spaces a second time. Near-identical results are folded into one (``duplicates``).

Confidence of a solution = share of the question's search terms that the matched question and solution
contain, times the extractor's confidence that the reply solved its question; the answer carries it in words
(:func:`whoknows.memory.confidence.verdict`) and as ``answered``, and the routing step uses the same number to
decide whether memory was enough. Each hit also carries the features a calibrated confidence is being built
from (:mod:`whoknows.memory.confidence`, measured by ``bench/bench_confidence.py``).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Select, and_, bindparam, case, select

from whoknows.access import Viewer
from whoknows.errors import InputError
from whoknows.index import Filters, SearchIndexError
from whoknows.index.analyzer import analyze, analyze_query
from whoknows.memory.confidence import ANSWERS, CALIBRATED, CALIBRATED_EMBEDDER, QueryTerms, hit_features, verdict
from whoknows.memory.memory_index import open_memory_index, store_fingerprint
from whoknows.memory.summary import AnswerSentence, combined_answer, sentences
from whoknows.store import Store, schema

MAX_QUESTION_CHARS = 100_000
SNIPPET_CHARS = 400
#: Jaccard similarity of two questions' terms above which they count as the same question.
DUPLICATE_JACCARD = 0.8
_SOLVED, _OPEN = frozenset({"solved"}), frozenset({"open"})


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
    #: The confidence in words (:func:`whoknows.memory.confidence.verdict`).
    verdict: str = ""
    #: What the confidence is computed from (see :mod:`whoknows.memory.confidence`).
    features: dict[str, float] = field(default_factory=dict)


@dataclass
class AskResult:
    question: str
    asker_id: int | None
    solutions: list[MemoryHit]
    similar: list[MemoryHit]
    confidence: float
    #: Does memory answer the question? (``confidence`` at least :data:`whoknows.memory.confidence.ANSWERS`)
    answered: bool = False
    #: The confidence in words: "answers your question", "related, may not answer it" or "memory has no answer".
    verdict: str = "memory has no answer — ask an expert"
    #: One combined answer: the few best sentences of the top solutions, each with its citation.
    answer: list[AnswerSentence] = field(default_factory=list)
    reason: str | None = None
    warnings: list[str] = field(default_factory=list)
    #: Time taken, for admins and the system only (it depends on how much text matched, readable or not).
    took_ms: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class MemorySearch:
    """A warm handle on the memory index for repeated questions (the API and benchmarks keep one open)."""

    def __init__(self, store: Store, path: Path):
        self.store = store
        self.path = path
        self.index = open_memory_index(store, path)
        self.warnings: list[str] = []
        if self.index.is_stale(store_fingerprint(store)):
            self.warnings.append(
                f"the memory index at {path} is older than the database (new or changed messages since it was "
                "built); results may miss recent answers: run `whoknows reindex`"
            )

    def ask(self, question: str, viewer: Viewer, *, k: int = 5) -> AskResult:
        """Answer ``question`` from the spaces ``viewer`` may read (see :mod:`whoknows.access`)."""
        started = time.perf_counter()
        asker_id = viewer.person_id
        question = question or ""
        if len(question) > MAX_QUESTION_CHARS:
            raise InputError(
                f"the question is {len(question):,} characters long; at most {MAX_QUESTION_CHARS:,} are accepted",
                code="ask.too_long",
            )
        if not question.strip():
            return AskResult(question, asker_id, [], [], 0.0, reason="empty question", warnings=list(self.warnings))
        if viewer.spaces is not None and not viewer.spaces:
            return AskResult(
                question, asker_id, [], [], 0.0, reason="you cannot read any space", warnings=list(self.warnings)
            )
        spaces = viewer.spaces
        # Solved and open questions are retrieved apart: an open question is a shorter document (no solution
        # text) and would otherwise crowd the solutions out of the top of a single ranking.
        solved = self.index.search(question, k=max(30, k * 6), filters=Filters(spaces=spaces, kinds=_SOLVED))
        if solved.reason:
            reason = {"no_searchable_terms": "the question has no searchable words (only stop words?)"}.get(
                solved.reason, solved.reason
            )
            return AskResult(question, asker_id, [], [], 0.0, reason=reason, warnings=list(self.warnings))
        open_ = self.index.search(question, k=max(10, k * 2), filters=Filters(spaces=spaces, kinds=_OPEN))
        ranked = solved.hits + open_.hits
        solutions, similar, found = self._load(
            [h.doc_id for h in ranked], {h.doc_id: h.score for h in ranked}, viewer, k
        )
        q = self._query_terms(question, spaces)
        solutions = self._calibrate(question, q, solutions)
        best = max((h.confidence for h in solutions), default=0.0)
        return AskResult(
            question,
            asker_id,
            solutions,
            similar,
            round(best, 4),
            answered=best >= ANSWERS,
            verdict=verdict(best),
            answer=combined_answer(q, solutions),
            reason=None if found else "nothing in memory matches this question",
            warnings=list(self.warnings),
            took_ms=round((time.perf_counter() - started) * 1000, 2) if viewer.sees_timings else None,
        )

    def _query_terms(self, question: str, spaces: frozenset[int] | None) -> QueryTerms:
        """The question's words with their idf among the documents the reader may see."""
        idf, absent = self.index.lexical.term_idf(question, Filters(spaces=spaces))
        return QueryTerms(frozenset(analyze_query(question)), idf, absent)

    def _calibrate(self, question: str, q: QueryTerms, hits: list[MemoryHit]) -> list[MemoryHit]:
        """Each solution's confidence and its features (:mod:`whoknows.memory.confidence`), from the reader's own
        statistics and readable hits only."""
        if not hits:
            return hits
        terms = set(q.terms)
        vector = self.index.vector
        calibrated = vector is not None and vector.embedder.kind == CALIBRATED_EMBEDDER
        sims = vector.similarity(question, [h.question_id for h in hits]) if calibrated and vector else {}
        for i, hit in enumerate(hits):
            nxt = hits[i + 1].score if i + 1 < len(hits) else 0.0
            hit.features = {
                name: round(value, 4)
                for name, value in hit_features(
                    q,
                    _terms(hit.question),
                    _terms(hit.solution or ""),
                    solution_confidence=hit.solution_confidence or 0.0,
                    duplicates=len(hit.duplicates),
                    margin=(hit.score - nxt) / hit.score if hit.score > 0 else 0.0,
                ).items()
            }
            if calibrated:
                hit.features["sim"] = round(max(0.0, sims.get(hit.question_id, 0.0)), 4)
                hit.confidence = CALIBRATED.probability(hit.features)
            else:
                hit.confidence = _coverage(terms, hit) * (hit.solution_confidence or 0.0)
            hit.verdict = verdict(hit.confidence)
        return hits

    def _load(
        self, ids: list[int], scores: dict[int, float], viewer: Viewer, k: int
    ) -> tuple[list[MemoryHit], list[MemoryHit], bool]:
        """The shown solutions and similar questions among the retrieved ``ids``, and whether any hit survived.

        Two phases: a light read of every candidate (its space, its best solution's id, confidence and text; an
        open question's text) is all that ranking and duplicate folding look at; the full rows (question,
        people, space, links) are then read for the at most ``2 k`` shown hits only. When a shown row changed
        between the two reads (PostgreSQL reads each statement on its own snapshot), the load runs again once.
        """
        if not ids:
            return [], [], False
        for attempt in range(2):
            with self.store.read() as conn:
                light = {r.question_id: r for r in conn.execute(_LIGHT, {"ids": ids})}
                hits = [_light_hit(light[qid], scores[qid]) for qid in ids if _readable(light.get(qid), viewer)]
                # Among solutions, prefer the ones the extractor is sure of: retrieval score x (0.5 + 0.5 conf.).
                hits.sort(key=lambda h: -h.score * (0.5 + 0.5 * (h.solution_confidence or 0.0)) if h.solution else 0.0)
                found = bool(hits)
                kept = _fold_duplicates(hits, k)
                solutions = [h for h in kept if h.solution is not None]
                similar = [h for h in kept if h.solution is None]
                gone, changed = _complete(conn, solutions + similar, light)
            if not (gone or changed) or attempt:
                break
        if gone:  # erased between the two reads, twice in a row
            solutions = [h for h in solutions if h.question_id not in gone]
            similar = [h for h in similar if h.question_id not in gone]
        return solutions, similar, found


def _readable(row: Any, viewer: Viewer) -> bool:
    return row is not None and viewer.can_read(row.space_id)  # else erased since indexing, or not readable


def _light_hit(row: Any, score: float) -> MemoryHit:
    """A hit with only what ranking and folding need; :func:`_complete` fills the rest if it is shown."""
    solved = row.message_id is not None
    return MemoryHit(
        question_id=int(row.question_id),
        score=round(score, 6),
        confidence=0.0,
        question="" if solved else _snippet(row.question_text),
        asked_by=None,
        asked_at=None,
        space="",
        space_kind="",
        link=None,
        solution=_snippet(row.solution_text) if solved else None,
        solution_id=int(row.message_id) if solved else None,
        solution_confidence=round(float(row.confidence), 4) if solved else None,
    )


def _complete(conn: Connection, shown: list[MemoryHit], light: dict[int, Any]) -> tuple[set[int], bool]:
    """Fill the shown hits from their full rows. Returns the ids whose row is gone, and whether a row differs
    from what the light read ranked it by (both only when a write came in between)."""
    if not shown:
        return set(), False
    full = {r.question_id: r for r in conn.execute(_FULL, {"ids": sorted({h.question_id for h in shown})})}
    gone: set[int] = set()
    changed = False
    for hit in shown:
        row, seen = full.get(hit.question_id), light[hit.question_id]
        if row is None:
            gone.add(hit.question_id)
            continue
        if (row.space_id, row.message_id, row.confidence, row.solution_text) != (
            seen.space_id,
            seen.message_id,
            seen.confidence,
            seen.solution_text,
        ) or (row.message_id is None and row.question_text != seen.question_text):
            changed = True
        hit.question = _snippet(row.question_text)
        hit.asked_by = _person(row.asker, row.asker_name, row.asker_department, row.asker_opted_out)
        hit.asked_at = _iso(row.created_at)
        hit.space, hit.space_kind = row.name, row.kind
        solved = row.message_id is not None
        hit.link = (row.solution_url if solved and row.solution_url else None) or row.qurl or row.url
        if solved and hit.solution is not None:
            hit.solved_by = _person(row.solver, row.solver_name, row.solver_department, row.solver_opted_out)
            hit.solution_signals = dict(row.signals or {})
    return gone, changed


def _statements() -> tuple[Select[Any], Select[Any]]:
    """The reads behind a result list, built once (statement construction was a quarter of their cost).

    ``_LIGHT`` reads every candidate: no thread, space or question message (the foreign keys cascade, so a pair
    whose question, thread or space was erased is gone too), only the best solution's message, whose text
    ranking and folding need. ``_FULL`` reads the shown hits with their askers and solvers."""
    qp, qs, m, p, s, t = (
        schema.qa_pairs,
        schema.qa_solutions,
        schema.messages,
        schema.people,
        schema.spaces,
        schema.threads,
    )
    sm = m.alias("sm")  # the best solution's message (a pair without one is an open question)
    asker, solver = p.alias("asker"), p.alias("solver")
    ids: Any = bindparam("ids", expanding=True)
    with_best = qp.outerjoin(qs, and_(qs.c.question_id == qp.c.question_id, qs.c.rank == 1)).outerjoin(
        sm, sm.c.id == qs.c.message_id
    )
    best = (sm.c.id.label("message_id"), qs.c.confidence, sm.c.text.label("solution_text"))
    light = select(
        qp.c.question_id,
        qp.c.space_id,
        *best,
        case((sm.c.id.is_(None), qp.c.question_text), else_=None).label("question_text"),
    ).select_from(with_best)
    full = select(
        qp.c.question_id,
        qp.c.question_text,
        qp.c.created_at,
        qp.c.space_id,
        s.c.name,
        s.c.kind,
        t.c.url,
        m.c.url.label("qurl"),
        *best,
        qs.c.signals,
        sm.c.url.label("solution_url"),
        asker.c.id.label("asker"),
        asker.c.name.label("asker_name"),
        asker.c.department.label("asker_department"),
        asker.c.opted_out.label("asker_opted_out"),
        solver.c.id.label("solver"),
        solver.c.name.label("solver_name"),
        solver.c.department.label("solver_department"),
        solver.c.opted_out.label("solver_opted_out"),
    ).select_from(
        with_best.join(s, s.c.id == qp.c.space_id)
        .join(t, t.c.id == qp.c.thread_id)
        .join(m, m.c.id == qp.c.question_id)
        .outerjoin(asker, asker.c.id == qp.c.asker_id)
        .outerjoin(solver, solver.c.id == qs.c.solver_id)
    )
    return light.where(qp.c.question_id.in_(ids)), full.where(qp.c.question_id.in_(ids))


_LIGHT, _FULL = _statements()


def ask(store: Store, data_dir: Path, question: str, viewer: Viewer, *, k: int = 5) -> AskResult:
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
    return search.ask(question, viewer, k=k)


def _person(pid: int | None, name: str, department: str | None, opted_out: bool | None) -> PersonRef | None:
    """The person of an outer-joined ``people`` row (``pid`` None: nobody recorded, or no such person)."""
    if pid is None:
        return None
    if opted_out:  # the knowledge stays in memory, the person is not named
        return PersonRef(None, "a colleague (opted out)")
    return PersonRef(int(pid), name, department)


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


def _fold_duplicates(hits: list[MemoryHit], limit: int | None = None) -> list[MemoryHit]:
    """Fold near-duplicates into the first, better-ranked hit: the same solution message, a solution saying
    the same thing (term Jaccard >= :data:`DUPLICATE_JACCARD`), a solution every substantial sentence of which
    an earlier card already says (one fact told to several customers, with other greetings around it), or, for
    open questions, the same question.

    Solutions and open questions fold apart. With ``limit``, only the first ``limit`` hits of each kind that
    fold into no earlier one are kept (with all their duplicates); the rest are dropped, but later hits still
    fold into them (what a hit past the limit says together with a shown card is no echo of that card alone)."""
    kept: list[MemoryHit] = []
    by_kind: dict[bool, list[tuple[MemoryHit, frozenset[str]]]] = {True: [], False: []}
    shown = {True: 0, False: 0}
    said: list[tuple[frozenset[str], MemoryHit]] = []  # substantial sentences of the unfolded solutions
    for hit in hits:
        terms = _terms(hit.solution if hit.solution is not None else hit.question)
        same_kind = by_kind[hit.solution is None]
        first: MemoryHit | None = None
        for other, other_terms in same_kind:
            if hit.solution_id is not None and hit.solution_id == other.solution_id:
                first = other
                break
            if _jaccard(terms, other_terms) >= DUPLICATE_JACCARD:
                first = other
                break
        parts = _sentence_terms(hit.solution) if hit.solution is not None else ()
        if first is None and parts:
            first = _said_already(parts, said)
        if first is None:
            same_kind.append((hit, terms))
            said.extend((s, hit) for s in parts)
            if limit is None or shown[hit.solution is None] < limit:
                shown[hit.solution is None] += 1
                kept.append(hit)
            continue
        first.duplicates.append(hit.question_id)
    return kept


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    common = len(a & b)
    union = len(a) + len(b) - common
    return common / union if union else 0.0


def _said_already(
    sentences: tuple[frozenset[str], ...], said: list[tuple[frozenset[str], MemoryHit]]
) -> MemoryHit | None:
    """The kept solution that already says the first of ``sentences``, when every one of them is said already."""
    owner: MemoryHit | None = None
    for s in sentences:
        match = next((hit for t, hit in said if _jaccard(s, t) >= DUPLICATE_JACCARD), None)
        if match is None:
            return None
        owner = owner or match
    return owner


@lru_cache(maxsize=4096)
def _sentence_terms(snippet: str) -> tuple[frozenset[str], ...]:
    """The analysed terms of each substantial sentence of a snippet (greetings and sign-offs are not what a card
    says; :func:`whoknows.memory.summary.sentences`)."""
    return tuple(terms for _, terms in sentences(snippet))


def _snippet(text: str | None) -> str:
    """The text with whitespace runs collapsed (``str.split`` splits on exactly what ``\\s`` matches, 4x faster
    than a regular expression), cut to :data:`SNIPPET_CHARS`."""
    text = text or ""
    if len(text) > 4 * SNIPPET_CHARS:
        # Collapsing whitespace in a head of the text gives a prefix of what collapsing the whole gives: when it
        # is long enough, the snippet is the same (and long messages need not be scanned to the end).
        head = " ".join(text[: 4 * SNIPPET_CHARS].split())
        if len(head) > SNIPPET_CHARS:
            return head[: SNIPPET_CHARS - 1].rstrip() + "…"
    text = " ".join(text.split())
    return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1].rstrip() + "…"


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
