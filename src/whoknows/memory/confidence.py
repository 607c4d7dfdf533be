"""How likely the shown solution answers the question: the words for it, and the features a calibrated
probability is built from.

Two confidences, chosen by what the memory index holds (``memory.ask``):

* with MiniLM vectors (``whoknows reindex --embedder minilm-numpy``): :data:`CALIBRATED`, a logistic model over
  the features below, fitted by ``bench/bench_confidence.py --sim minilm-numpy`` on every labelled source there
  is (SemEval-2016 train 1, train 2 and dev; the ai and beer Stack Exchange duplicates against the other site's
  questions; the demo organisation) and judged leave-one-source-out on each before (docs/search.md has the
  per-source figures). Refit with that command when sources are added; it prints the weights.
* otherwise the share of the question's words a hit covers times the extractor's confidence in the solution
  (the fitted model needs ``sim``, and word vectors trained on a small corpus, or none, do not give it).

Features of one hit, all computed from what the reader may see (the reader's own term statistics, the hit's
text, the other readable hits):

* ``cov_idf`` — the idf-weighted share of the question's words that the hit's question and solution contain. A
  word no readable document holds counts with the largest idf there is, so a question about something memory
  never discussed ("parental leave") stays uncovered even when its common words ("our policy") match.
* ``cov_q_idf`` — the same share for the hit's question alone (the question asked the same thing?).
* ``missing_idf`` — the idf-weighted share of the question's words that no readable document holds at all.
* ``rarest`` — whether the hit holds the question's rarest known word.
* ``sim`` — cosine similarity of the question and the hit in the index's vectors (the stored document vector and
  the question's; :func:`similarities` embeds both for the benchmark's other models).
* ``solution`` — the extractor's confidence that the reply solved its own question.
* ``agree`` — how many of the other top hits say the same (folded duplicates), log-scaled.
* ``margin`` — how far the hit's retrieval score is ahead of the next hit's.

"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from whoknows.index.embedders import Embedder

FEATURES = ("cov_idf", "cov_q_idf", "missing_idf", "rarest", "sim", "solution", "agree", "margin")

#: Words of the answer: "answers your question" from this confidence on (the routing threshold's default),
#: "related, may not answer it" from RELATED on.
ANSWERS = 0.5
RELATED = 0.2


@dataclass(frozen=True, slots=True)
class ConfidenceModel:
    weights: dict[str, float]
    intercept: float
    fitted_on: str = ""
    stats: dict[str, float] = field(default_factory=dict)

    def probability(self, features: Mapping[str, float]) -> float:
        z = self.intercept + sum(w * features.get(name, 0.0) for name, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


#: The calibrated confidence with MiniLM similarity (sign-constrained logistic regression, L2 = 1, fitted on all
#: six sources by ``bench/bench_confidence.py --sim minilm-numpy``).
CALIBRATED = ConfidenceModel(
    weights={
        "cov_idf": 0.4142,
        "cov_q_idf": 1.8742,
        "missing_idf": 0.0,
        "rarest": 0.0,
        "sim": 7.7002,
        "solution": 0.0,
        "agree": 1.0503,
        "margin": 0.6351,
    },
    intercept=-5.2752,
    fitted_on="semeval train-part1 v2.0, train-part2, dev; ai and beer duplicates + other site; demo org",
)
#: The embedder kind whose similarities :data:`CALIBRATED` was fitted with.
CALIBRATED_EMBEDDER = "minilm-numpy"


@dataclass(frozen=True, slots=True)
class QueryTerms:
    """The question's analysed words with their idf for this reader (``absent``: the idf of a missing word)."""

    terms: frozenset[str]
    idf: dict[str, float]
    absent: float

    def weight(self, term: str) -> float:
        return self.idf.get(term, self.absent)

    @property
    def total(self) -> float:
        return sum(self.weight(t) for t in self.terms)


def hit_features(
    q: QueryTerms,
    question_terms: frozenset[str],
    solution_terms: frozenset[str],
    *,
    solution_confidence: float,
    duplicates: int,
    margin: float,
) -> dict[str, float]:
    total = q.total
    if not total:
        return dict.fromkeys((f for f in FEATURES if f != "sim"), 0.0)
    both = question_terms | solution_terms
    known = [t for t in q.terms if t in q.idf]
    rarest = max(known, key=lambda t: (q.idf[t], t)) if known else None
    return {
        "cov_idf": sum(q.weight(t) for t in q.terms & both) / total,
        "cov_q_idf": sum(q.weight(t) for t in q.terms & question_terms) / total,
        "missing_idf": sum(q.absent for t in q.terms if t not in q.idf) / total,
        "rarest": float(rarest is not None and rarest in both),
        "solution": solution_confidence,
        "agree": math.log1p(duplicates),
        "margin": max(0.0, margin),
    }


def similarities(embedder: Embedder | None, question: str, texts: Sequence[str]) -> list[float]:
    """Cosine of the question and each text in ``embedder``'s vectors (zeros without an embedder)."""
    if embedder is None:
        return [0.0] * len(texts)
    import numpy as np

    from whoknows.index.embedders.base import embed_queries

    q = np.asarray(embed_queries(embedder, [question]))[0]
    docs = np.asarray(embedder.embed(list(texts)))
    return [max(0.0, float(v)) for v in docs @ q]


def verdict(probability: float) -> str:
    """The confidence in words, as every front-end shows it."""
    if probability >= ANSWERS:
        return "answers your question"
    if probability >= RELATED:
        return "related, may not answer it"
    return "memory has no answer — ask an expert"
