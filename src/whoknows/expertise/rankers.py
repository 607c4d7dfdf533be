"""Expert rankers, each conforming to the ranking contract (``rank(query, k, filters) -> list[Scored]``, DESIGN
rule 5) with person ids as the ranked ids, so they compose with :mod:`whoknows.index.compose` and are scored by
the one :func:`whoknows.index.evaluate`.

Baselines: :class:`RandomRanker`, :class:`MostActiveRanker`, :class:`ProfileRanker` (Balog Model 1),
:class:`VotingRanker` (Model 2 / voting: CombSUM or expCombMNZ), :class:`GraphRanker` (PageRank authority).
The default is :class:`LearnedRanker`, the fitted combination of all the features.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from whoknows.expertise.features import FeatureExtractor, QueryFeatures
from whoknows.expertise.learn import LinearModel
from whoknows.expertise.table import F64
from whoknows.index import NO_FILTER, Filters, Scored


@dataclass
class RankContext:
    extractor: FeatureExtractor

    @property
    def person_ids(self) -> npt.NDArray[np.int64]:
        return self.extractor.table.person_ids

    @property
    def eligible(self) -> npt.NDArray[np.bool_]:
        return self.extractor.eligible

    def answerers(self, filters: Filters) -> npt.NDArray[np.bool_]:
        """Eligible people with at least one answer the filters allow."""
        st = self.extractor.table.stats(_no_kinds(filters), self.extractor.half_life)
        return np.asarray((st["answers"] > 0) & self.eligible, dtype=np.bool_)

    def top(self, idx: npt.NDArray[np.int64], scores: F64, k: int) -> list[Scored]:
        order = np.lexsort((self.person_ids[idx], -scores))[: max(k, 0)]
        return [Scored(int(self.person_ids[idx[i]]), float(scores[i])) for i in order]


def _no_kinds(filters: Filters) -> Filters:
    return Filters(spaces=filters.spaces, since=filters.since, until=filters.until)


@dataclass
class RandomRanker:
    ctx: RankContext
    seed: int = 0

    def rank(self, query: str, k: int, filters: Filters = NO_FILTER) -> list[Scored]:
        idx = np.flatnonzero(self.ctx.answerers(filters)).astype(np.int64)
        digest = hashlib.sha256(f"{self.seed}:{query}".encode()).digest()
        rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
        return self.ctx.top(idx, rng.random(len(idx)), k)


@dataclass
class MostActiveRanker:
    """Most answers first (ties: most accepted), whatever the question."""

    ctx: RankContext

    def rank(self, query: str, k: int, filters: Filters = NO_FILTER) -> list[Scored]:
        ok = self.ctx.answerers(filters)
        st = self.ctx.extractor.table.stats(_no_kinds(filters), self.ctx.extractor.half_life)
        idx = np.flatnonzero(ok).astype(np.int64)
        return self.ctx.top(idx, st["answers"][idx] + st["accepted"][idx] / (st["answers"][idx] + 1.0), k)


@dataclass
class GraphRanker:
    """PageRank authority on the asker -> answerer graph, whatever the question."""

    ctx: RankContext

    def rank(self, query: str, k: int, filters: Filters = NO_FILTER) -> list[Scored]:
        idx = np.flatnonzero(self.ctx.answerers(filters)).astype(np.int64)
        return self.ctx.top(idx, self.ctx.extractor.pagerank(filters.until)[idx], k)


@dataclass
class ProfileRanker:
    """Balog's Model 1: BM25 over one document per person (their answers)."""

    ctx: RankContext

    def rank(self, query: str, k: int, filters: Filters = NO_FILTER) -> list[Scored]:
        scores = self.ctx.extractor.profile_scores(query, filters)
        idx = np.flatnonzero((scores > 0) & self.ctx.eligible).astype(np.int64)
        return self.ctx.top(idx, scores[idx], k)


@dataclass
class VotingRanker:
    """Document voting: the top BM25 messages vote for their authors (``combsum`` or ``expcombmnz``)."""

    ctx: RankContext
    method: str = "combsum"

    def rank(self, query: str, k: int, filters: Filters = NO_FILTER) -> list[Scored]:
        qf = self.ctx.extractor.extract(query, filters)
        scores = qf.raw[f"vote_{self.method}"]
        voted = scores > 0
        return self.ctx.top(qf.cand[voted], scores[voted], k)


@dataclass
class LearnedRanker:
    """The default: the learned linear combination of every feature, over the people the evidence names."""

    ctx: RankContext
    model: LinearModel

    def score(self, qf: QueryFeatures) -> F64:
        if not len(qf.cand):
            return np.zeros(0)
        return self.model.score(qf.x)

    def rank(self, query: str, k: int, filters: Filters = NO_FILTER) -> list[Scored]:
        qf = self.ctx.extractor.extract(query, filters)
        return self.ctx.top(qf.cand, self.score(qf), k)
