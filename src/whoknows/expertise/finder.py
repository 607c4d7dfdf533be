"""``find_experts``: who is most likely to answer a question well, with the messages that show why.

Freshness: rankings come from the precomputed model folder (rebuild it with :func:`build_expertise`, or use
``on_stale="rebuild"``), but *people* are always checked against the current store: someone erased, merged
away, opted out or marked as a bot since the build never appears. Evidence messages are re-read from the store
at answer time, so an erased message is never shown either.
"""

from __future__ import annotations

import time
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np

from whoknows.access import Viewer
from whoknows.expertise import rows as store_rows
from whoknows.expertise.bundle import ExpertiseModel
from whoknows.expertise.errors import ExpertiseMissingError
from whoknows.expertise.evidence import ANSWER, COMMENT, ROLES
from whoknows.expertise.features import QueryFeatures
from whoknows.expertise.nonanswer import is_non_answer
from whoknows.expertise.result import (
    EvidenceItem,
    Expert,
    ExpertResult,
    asked_words,
    in_words,
    iso,
    query_words,
    snippet,
    why,
)
from whoknows.expertise.table import EvidenceTable
from whoknows.index import Filters
from whoknows.index.analyzer import analyze_query
from whoknows.store import Store

OnStale = Literal["use", "error", "rebuild"]
EVIDENCE_PER_EXPERT = 3
#: Evidence candidates looked at per expert, in multiples of what is shown (non-answers are skipped).
EVIDENCE_SPARE = 3
#: Words of the question named in an expert's reason ("answered 3 questions about saml, certificate").
ABOUT_WORDS = 3
#: How often (seconds) an open model re-checks the store fingerprint.
STALE_CHECK_SECONDS = 10.0
_open_models: dict[str, tuple[ExpertiseModel, float, bool]] = {}


def open_model(
    store: Store, path: str | Path | None = None, *, on_stale: OnStale = "use"
) -> tuple[ExpertiseModel, bool]:
    """The model at ``path`` (opened once per process and reused) and whether it is stale. ``path`` is the
    ``expertise/`` folder of the database's derived folder (:func:`whoknows.derive.expertise_path`), which the
    caller knows; a model of another database is refused (``expertise.wrong_database``)."""
    from whoknows.expertise.build import build_expertise

    if path is None:  # the core never guesses a location (it would read the environment's data dir)
        raise ExpertiseMissingError(
            "no expertise model path given: pass the database's expertise folder (whoknows.derive.expertise_path)"
        )
    p = Path(path)
    key = f"{store.url}|{_resolved(str(p))}"
    cached = _open_models.get(key)
    now = time.monotonic()
    if cached is not None and now - cached[1] < STALE_CHECK_SECONDS:
        model, stale = cached[0], cached[2]
    else:
        model = cached[0] if cached is not None else ExpertiseModel.open(p, database_id=store.database_id)
        fp = store_rows.fingerprint(store)
        if model.is_stale(fp) and cached is not None:  # the folder may have been rebuilt by another process
            model = ExpertiseModel.open(p, database_id=store.database_id)
        stale = model.is_stale(fp)
        if stale and on_stale == "error":
            model.require_fresh(fp)
        if stale and on_stale == "rebuild":
            model, stale = build_expertise(store, p), False
        _open_models[key] = (model, now, stale)
    return model, stale


@lru_cache(maxsize=64)
def _resolved(path: str) -> str:
    """The absolute path (symlinks resolved) once per path: resolving costs file-system calls on every question."""
    return str(Path(path).resolve())


def find_experts(
    store: Store,
    question: str,
    viewer: Viewer,
    *,
    k: int = 10,
    path: str | Path | None = None,
    model: ExpertiseModel | None = None,
    on_stale: OnStale = "use",
) -> ExpertResult:
    """Rank the people most likely to answer ``question`` well, as ``viewer`` may see them.

    Evidence comes only from spaces the viewer may read. With no evidence the result is empty and ``reason``
    says why; it never falls back to people unrelated to the question.
    """
    asker_id = viewer.person_id
    stale = False
    if model is None:
        model, stale = open_model(store, path, on_stale=on_stale)
    result = ExpertResult(question=question, experts=[], asker_id=asker_id, stale=stale)
    if not question.strip():
        result.reason = "the question is empty"
        return result
    if not analyze_query(question):
        result.reason = "the question has no searchable words"
        return result
    filters = Filters(spaces=viewer.spaces)
    table = model.table
    qf = model.extractor.extract(question, filters, asker=table.person_index(asker_id))
    if not len(qf.cand):
        result.reason = f"no one has written about {_gist(question)!r} in the spaces you can read"
        return result
    scores = model.ranker.score(qf)
    order = np.lexsort((table.person_ids[qf.cand], -scores))
    # Only people whose own words match the question are shown (prior-only candidates have no evidence).
    order = order[(qf.column("vote_n")[order] > 0) | (qf.column("profile")[order] > 0)]
    live = store_rows.people(store, [int(table.person_ids[qf.cand[i]]) for i in order[: 3 * k + 10]])
    experts: list[Expert] = []
    for i in order[: 3 * k + 10]:
        pid = int(table.person_ids[qf.cand[i]])
        person = live.get(pid)
        if person is None or person.opted_out or person.is_bot or pid == asker_id:
            continue
        contrib = model.model.contributions(qf.x[i : i + 1])[0]
        top = np.argsort(-contrib)[:3]
        signals = {qf.names[j]: round(float(contrib[j]), 3) for j in top if contrib[j] > 0}
        experts.append(
            Expert(
                pid,
                person.name,
                person.department,
                len(experts) + 1,
                float(scores[i]),
                [],
                signals,
                title=person.role,
                team=person.team,
            )
        )
        if len(experts) >= k:
            break
    _attach_evidence(store, model, qf, experts, question, filters)
    experts = [e for e in experts if e.evidence]
    for rank, e in enumerate(experts, start=1):
        e.rank = rank
    result.experts = experts
    if not experts:
        result.reason = f"no one you may see has written about {_gist(question)!r}"
    return result


def _reason(model: ExpertiseModel, rows: list[int], about: list[str], now: float) -> str:
    """The person's matched messages (already filtered to what the reader may see), counted in words, with the
    question's words their shown evidence shares."""
    t = model.table
    answers = sum(int(t.role[r]) == ANSWER for r in rows)
    latest = max((float(t.time[r]) for r in rows), default=None)
    days_ago = int((now - latest) // 86400) if latest is not None else None
    return in_words(
        answers,
        len(rows) - answers,
        sum(bool(t.accepted[r]) for r in rows),
        sum(bool(t.thanked[r]) and not bool(t.accepted[r]) for r in rows),
        iso(latest) if latest is not None else None,
        bool(rows),
        about,
        days_ago,
    )


def _shared_words(model: ExpertiseModel, question: str, shown: list[str]) -> list[str]:
    """Up to :data:`ABOUT_WORDS` of the question's words (as the asker wrote them) that the shown evidence also
    uses, the rarest in the index first: what the person's messages have in common with the question."""
    have: set[str] = set()
    for text in shown:
        have.update(analyze_query(text))
    surface: dict[str, str] = {}
    for word in asked_words(question):
        terms = analyze_query(word)
        if terms and terms[0] in have:
            surface.setdefault(terms[0], word)
    rarest = model.extractor.rarest(list(surface), ABOUT_WORDS)
    return [surface[t] for t in rarest]


def _gist(question: str) -> str:
    words = " ".join(question.split())
    return words if len(words) <= 60 else words[:57] + "…"


def _with_spares(rows: list[int], t: EvidenceTable) -> list[int]:
    """The best rows up to :data:`EVIDENCE_PER_EXPERT` sure ones, with the comments met on the way as extras
    (at most :data:`EVIDENCE_SPARE` times as many rows): a comment that turns out a brush-off or a bare question
    back is never shown as why someone knows, and only comments are read to find out."""
    out: list[int] = []
    sure = 0
    for r in rows[: EVIDENCE_SPARE * EVIDENCE_PER_EXPERT]:
        out.append(r)
        sure += _sure(t, r)
        if sure == EVIDENCE_PER_EXPERT:
            break
    return out


def _sure(t: EvidenceTable, r: int) -> bool:
    """Evidence that stands without reading it: not a comment (which may be a brush-off), or accepted/thanked."""
    return int(t.role[r]) != COMMENT or bool(t.accepted[r] or t.thanked[r])


def _attach_evidence(
    store: Store, model: ExpertiseModel, qf: QueryFeatures, experts: list[Expert], question: str, filters: Filters
) -> None:
    t = model.table
    pos = {int(t.person_ids[c]): j for j, c in enumerate(qf.cand.tolist())}
    chosen: dict[int, list[int]] = {}
    counted: dict[int, list[int]] = {}
    # Matched by profile only, or only by comments (which may all be brush-offs): their best-matching answers
    # too, found in one pass, shown before the comments.
    no_answer = [
        int(qf.cand[pos[e.person_id]])
        for e in experts
        if not any(_sure(t, r) for r, _ in qf.votes.get(pos[e.person_id], []))
    ]
    best = model.extractor.best_messages(question, filters, no_answer, EVIDENCE_PER_EXPERT)

    def by_score(found: list[tuple[int, float]]) -> list[int]:
        return [
            r for r, _ in sorted(found, key=lambda rs: -rs[1] * (1.5 if t.accepted[rs[0]] or t.thanked[rs[0]] else 1.0))
        ]

    for e in experts:
        matched = qf.votes.get(pos[e.person_id]) or []
        counted[e.person_id] = [r for r, _ in matched]
        answers = by_score(best.get(int(qf.cand[pos[e.person_id]]), []))
        chosen[e.person_id] = _with_spares(answers + [r for r in by_score(matched) if r not in answers], t)
    texts = store_rows.message_texts(store, [int(t.msg_id[r]) for rows in chosen.values() for r in rows])
    words = query_words(question)
    now = time.time()
    for e in experts:
        items: list[EvidenceItem] = []
        for r in chosen[e.person_id]:
            mid = int(t.msg_id[r])
            found = texts.get(mid)
            if found is None or (filters.spaces is not None and found[2] not in filters.spaces):
                continue  # erased since the build, or not readable (defensive: retrieval is already filtered)
            if len(items) == EVIDENCE_PER_EXPERT:
                break
            if not _sure(t, r) and is_non_answer(found[0]):
                continue
            reasons = why(
                ROLES[int(t.role[r])], bool(t.accepted[r]), bool(t.thanked[r]), int(t.score[r]), int(t.reactions[r])
            )
            items.append(
                EvidenceItem(mid, snippet(found[0], words), found[1], reasons, iso(float(t.time[r])), found[2])
            )
        e.evidence = items
        shown = [texts[item.message_id][0] for item in items]
        e.reason = _reason(model, counted[e.person_id], _shared_words(model, question, shown), now)
