"""The one contract every ranking stage follows (DESIGN rule 5).

A *ranker* is anything with ``rank(query, k, filters) -> list[Scored]``: a retriever (BM25, vectors), a fuser
(weighted reciprocal-rank fusion of other rankers) or a pipeline (a first stage followed by a reranker and a
cutoff). Scores are only comparable within one ranked list. Permission filtering is part of ``filters`` and is
applied *inside* retrieval, so a ranker fills its top ``k`` from allowed documents only.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol, runtime_checkable


class Scored(NamedTuple):
    """One ranked result: a document id and the ranker's score (higher is better)."""

    doc_id: int
    score: float


@dataclass(frozen=True, slots=True)
class Filters:
    """What a ranker may return.

    ``spaces`` is the set of space ids the asker may read; ``None`` means *no restriction* and is meant for
    administrative or offline use only. An empty set allows nothing. ``kinds`` restricts document kinds,
    ``since``/``until`` a half-open time range ``[since, until)`` in epoch seconds (documents without a time
    are excluded when a range is given).
    """

    spaces: frozenset[int] | None = None
    kinds: frozenset[str] | None = None
    since: float | None = None
    until: float | None = None

    @classmethod
    def of(
        cls,
        spaces: Collection[int] | None = None,
        kinds: Collection[str] | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> Filters:
        return cls(
            spaces=None if spaces is None else frozenset(int(s) for s in spaces),
            kinds=None if kinds is None else frozenset(kinds),
            since=since,
            until=until,
        )

    def allows_nothing(self) -> bool:
        return (self.spaces is not None and not self.spaces) or (self.kinds is not None and not self.kinds)


NO_FILTER = Filters()


@runtime_checkable
class Ranker(Protocol):
    def rank(self, query: str, k: int, filters: Filters = NO_FILTER) -> list[Scored]: ...


@runtime_checkable
class Reranker(Protocol):
    """A second stage: reorders (and rescores) candidates from a first stage for the same query."""

    def rerank(self, query: str, candidates: Sequence[Scored], k: int) -> list[Scored]: ...


def top_k(items: dict[int, float], k: int) -> list[Scored]:
    """Sort a ``doc_id -> score`` map by score (ties by id, for determinism) and keep ``k``."""
    ranked = sorted(items.items(), key=lambda kv: (-kv[1], kv[0]))
    return [Scored(d, s) for d, s in ranked[: max(k, 0)]]
