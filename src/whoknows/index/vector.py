"""Exact vector search: cosine similarity by brute force over each segment's vectors, permission filter as a
mask.

Segment rows are sorted by space, so a permission filter scores contiguous row ranges (no copy).
Vectors are stored as float16 ``.npy`` files (memory-mapped) and held as float32 in memory for BLAS once a
segment is first searched. When the filter keeps a small share of a segment, only the allowed rows are scored.
"""

from __future__ import annotations

import threading
import weakref

import numpy as np

from whoknows.index.contract import NO_FILTER, Filters, Scored
from whoknows.index.embedders.base import Embedder
from whoknows.index.lexical import SegmentSource, top_candidates
from whoknows.index.segment import FloatArray, Segment

#: Below this share of allowed rows, gather them and score only those.
GATHER_BELOW = 0.2


class VectorRetriever:
    """Semantic ranker conforming to :class:`whoknows.index.contract.Ranker`."""

    def __init__(self, source: SegmentSource, embedder: Embedder) -> None:
        self.source = source
        self.embedder = embedder
        self._last = threading.local()

    def _all_scores(self, seg: Segment, vecs: FloatArray, query: str, q: FloatArray) -> FloatArray:
        """``vecs @ q`` over the whole segment. The product of the calling thread's last query is kept per
        segment, so several searches for one question with different filters (``ask`` looks for solved and
        open questions apart) pay for the product once. Keyed by the segment object: a rewritten segment is a
        new object, so a stale product is never reused."""
        cache: dict[int, tuple[weakref.ref[Segment], str, FloatArray]] = getattr(self._last, "scores", None) or {}
        hit = cache.get(id(seg))
        if hit is not None and hit[0]() is seg and hit[1] == query:
            return hit[2]
        scores = vecs @ q
        for key in [k for k, v in cache.items() if v[0]() is None]:  # segments replaced since: let them go
            del cache[key]
        cache[id(seg)] = (weakref.ref(seg), query, scores)  # a weak reference: never keeps a dropped segment alive
        self._last.scores = cache
        return scores

    def rank(self, query: str, k: int, filters: Filters = NO_FILTER) -> list[Scored]:
        if k <= 0 or filters.allows_nothing() or not query.strip():
            return []
        q = self.embedder.embed([query])[0].astype(np.float32)
        if not np.any(q):
            return []
        hits: list[Scored] = []
        for seg in self.source.segments:
            vecs = seg.vectors32()
            if vecs is None or len(seg) == 0:
                continue
            if filters.spaces is not None:
                seg.space_ranges(filters.spaces)  # indexes the space column once
            if filters.spaces is not None and seg.sorted_by_space:
                ranges = seg.space_ranges(filters.spaces)
                if not ranges:
                    continue
                rows = np.concatenate([np.arange(a, b, dtype=np.intp) for a, b in ranges])
                if len(rows) >= GATHER_BELOW * len(seg):  # most rows: one product over the segment, reusable
                    scores = self._all_scores(seg, vecs, query, q)[rows]
                else:
                    scores = np.concatenate([vecs[a:b] @ q for a, b in ranges])
                rest = Filters(kinds=filters.kinds, since=filters.since, until=filters.until)
                hits.extend(top_candidates(seg, scores, rows, k, rest))
                continue
            mask = seg.allowed(filters)
            if mask is None:
                rows = np.arange(len(seg), dtype=np.intp)
                scores = self._all_scores(seg, vecs, query, q)
            else:
                rows = np.flatnonzero(mask)
                if len(rows) == 0:
                    continue
                if len(rows) < GATHER_BELOW * len(seg):
                    scores = vecs[rows] @ q
                else:
                    scores = self._all_scores(seg, vecs, query, q)[rows]
            hits.extend(top_candidates(seg, scores, rows, k, NO_FILTER))
        hits.sort(key=lambda h: (-h.score, h.doc_id))
        return hits[:k]
