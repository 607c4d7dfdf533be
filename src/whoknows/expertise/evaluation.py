"""Evaluating expert finding the way the field does (TCQR, WSDM 2020; SE-PEF 2023): answered questions sorted by
time, the first 80% as history and the last 20% as test; every ranker ranks the people for each test question;
ground truth is every answerer (grade 1) and the accepted one (grade 2). Metrics come from the one
:func:`whoknows.index.evaluate`. Used by ``bench/bench_experts.py`` and the tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from whoknows.expertise import rows as store_rows
from whoknows.expertise.bundle import ExpertiseModel
from whoknows.expertise.evidence import ANSWER, QUESTION, evidence_batch
from whoknows.expertise.rankers import (
    GraphRanker,
    MostActiveRanker,
    ProfileRanker,
    RandomRanker,
    VotingRanker,
)
from whoknows.index import Filters, Ranker, evaluate
from whoknows.store import Store

METRICS = ("mrr", "p@1", "ndcg@10", "r@5")


@dataclass
class JudgedQuestion:
    qid: str
    message_id: int
    text: str
    asker_id: int | None
    time: float
    grades: dict[int, int]  # person id -> 2 accepted (or thanked), 1 answered


def answered_questions(store: Store) -> list[JudgedQuestion]:
    """Every question thread with at least one answer by someone other than the asker, oldest first."""
    out: list[JudgedQuestion] = []
    for batch in store_rows.iter_threads(store):
        for rows in batch:
            ev = evidence_batch([rows])
            if not ev or ev[0].role != QUESTION:
                continue
            asker = ev[0].author_id
            grades: dict[int, int] = {}
            for e in ev:
                if e.role == ANSWER and e.author_id is not None and e.author_id != asker:
                    g = 2 if (e.accepted or e.thanked) else 1
                    grades[e.author_id] = max(grades.get(e.author_id, 0), g)
            if grades:
                out.append(JudgedQuestion(str(rows[0].id), rows[0].id, rows[0].text, asker, rows[0].time, grades))
    out.sort(key=lambda q: (q.time, q.message_id))
    return out


def temporal_split(questions: Sequence[JudgedQuestion], history: float = 0.8) -> tuple[datetime, list[JudgedQuestion]]:
    """The cut time (creation time of the first test question) and the test questions."""
    cut = int(len(questions) * history)
    test = list(questions[cut:])
    return datetime.fromtimestamp(test[0].time, UTC), test


def baseline_rankers(model: ExpertiseModel) -> dict[str, Ranker]:
    ctx = model.context
    return {
        "random": RandomRanker(ctx),
        "most-active": MostActiveRanker(ctx),
        "graph (PageRank)": GraphRanker(ctx),
        "bm25 profile (M1)": ProfileRanker(ctx),
        "bm25 voting CombSUM (M2)": VotingRanker(ctx, "combsum"),
        "bm25 voting expCombMNZ": VotingRanker(ctx, "expcombmnz"),
        "default (learned)": model.ranker,
    }


def run(
    store: Store,
    rankers: Mapping[str, Ranker],
    questions: Sequence[JudgedQuestion],
    *,
    as_asker: bool = False,
    k: int = 100,
) -> dict[str, dict[str, list[object]]]:
    """Runs (ranker -> qid -> ranked person ids) under each asker's permissions (or public spaces only)."""
    readable: dict[int | None, frozenset[int]] = {}
    runs: dict[str, dict[str, list[object]]] = {name: {} for name in rankers}
    for q in questions:
        asker = q.asker_id if as_asker else None
        if asker not in readable:
            readable[asker] = store.viewer(asker).spaces or frozenset()
        filters = Filters(spaces=readable[asker])
        for name, ranker in rankers.items():
            ranked: list[object] = [s.doc_id for s in ranker.rank(q.text, k + 1, filters) if s.doc_id != q.asker_id]
            runs[name][q.qid] = ranked[:k]
    return runs


def qrels(questions: Sequence[JudgedQuestion]) -> dict[str, dict[object, int]]:
    return {q.qid: {pid: g for pid, g in q.grades.items()} for q in questions}


def answered_before(model: ExpertiseModel) -> set[int]:
    """Person ids of everyone who answered anything in the model's history (the benchmark's candidates)."""
    import numpy as np

    st = model.table.stats(Filters(), model.half_life)
    return {int(p) for p in model.table.person_ids[np.flatnonzero(st["answers"] > 0)]}


def cold_start_share(model: ExpertiseModel, questions: Sequence[JudgedQuestion]) -> float:
    """Share of questions none of whose answerers answered anything in the model's history."""
    seen = answered_before(model)
    cold = sum(1 for q in questions if not seen & q.grades.keys())
    return cold / len(questions) if questions else 0.0


def score(
    store: Store, model: ExpertiseModel, questions: Sequence[JudgedQuestion], *, as_asker: bool = False
) -> dict[str, dict[str, float]]:
    rankers = baseline_rankers(model)
    return evaluate(run(store, rankers, questions, as_asker=as_asker), qrels(questions), METRICS)
