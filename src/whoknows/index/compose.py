"""Composition of rankers: cutoff, pipeline (first stage then reranker) and weighted reciprocal-rank
fusion."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from whoknows.index.contract import NO_FILTER, Filters, Ranker, Reranker, Scored, top_k

#: Cormack et al. (SIGIR 2009) use k=60 for reciprocal-rank fusion.
RRF_K = 60.0


def rrf_scores(runs: Sequence[Sequence[Scored]], weights: Sequence[float], rrf_k: float = RRF_K) -> dict[int, float]:
    """Weighted RRF: ``score(d) = sum_i w_i / (rrf_k + rank_i(d))`` with ranks starting at 1."""
    if len(runs) != len(weights):
        raise ValueError("one weight per run is needed")
    fused: dict[int, float] = {}
    for run, w in zip(runs, weights, strict=True):
        if w == 0:
            continue
        for rank, hit in enumerate(run, start=1):
            fused[hit.doc_id] = fused.get(hit.doc_id, 0.0) + w / (rrf_k + rank)
    return fused


@dataclass
class Cutoff:
    """Keep at most ``limit`` results of a ranker (``ranker % limit`` in pyterrier)."""

    ranker: Ranker
    limit: int

    def rank(self, query: str, k: int, filters: Filters = NO_FILTER) -> list[Scored]:
        return self.ranker.rank(query, min(k, self.limit), filters)


@dataclass
class Pipeline:
    """A first stage retrieving ``depth`` candidates, then a reranker keeping ``k``."""

    first: Ranker
    reranker: Reranker
    depth: int = 100

    def rank(self, query: str, k: int, filters: Filters = NO_FILTER) -> list[Scored]:
        candidates = self.first.rank(query, max(self.depth, k), filters)
        return self.reranker.rerank(query, candidates, k)


@dataclass
class RRFFusion:
    """Weighted reciprocal-rank fusion of rankers, each asked for ``depth`` results under the same filters."""

    rankers: Sequence[Ranker]
    weights: Sequence[float] = field(default_factory=list)
    depth: int = 100
    rrf_k: float = RRF_K

    def __post_init__(self) -> None:
        if not self.weights:
            self.weights = [1.0] * len(self.rankers)
        if len(self.weights) != len(self.rankers):
            raise ValueError("one weight per ranker is needed")

    def rank(self, query: str, k: int, filters: Filters = NO_FILTER) -> list[Scored]:
        depth = max(self.depth, k)
        runs = [r.rank(query, depth, filters) if w else [] for r, w in zip(self.rankers, self.weights, strict=True)]
        return top_k(rrf_scores(runs, self.weights, self.rrf_k), k)
