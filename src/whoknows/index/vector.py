"""Vector search: cosine similarity over each segment's vectors, permission filter as a mask.

Segment rows are sorted by space, so when the filter keeps a small share of a segment only its allowed
spaces' contiguous row ranges are scored (exactly, no copy). Otherwise a large segment with IVF lists
(:mod:`whoknows.index.ivf`) is searched approximately: only the lists nearest to the query are scored; a small
segment (or ``exact=True``) is scored by brute force. Vectors are stored as float16 ``.npy`` files
(memory-mapped) and held as float32 in memory for BLAS once a segment is first searched.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import numpy.typing as npt

from whoknows.index.contract import NO_FILTER, Filters, Scored
from whoknows.index.embedders.base import Embedder, embed_queries
from whoknows.index.ivf import IVF
from whoknows.index.lastquery import LastQuery
from whoknows.index.lexical import Ranked, SegmentSource, as_scored, best_of, merge_ranked, top_candidates
from whoknows.index.segment import BoolArray, FloatArray, Segment

#: Below this share of allowed rows, score only those (exactly).
GATHER_BELOW = 0.2
#: Cosine similarities are raised by this before the top-k cut (which keeps positive values only).
SHIFT = 2.0


class VectorRetriever:
    """Semantic ranker conforming to :class:`whoknows.index.contract.Ranker`."""

    def __init__(self, source: SegmentSource, embedder: Embedder, *, exact: bool = False) -> None:
        self.source = source
        self.embedder = embedder
        #: Score every vector even where a segment has IVF lists (benchmarks compare the two).
        self.exact = exact
        self._last = LastQuery()
        self._qvec: tuple[str, FloatArray] | None = None

    def _all_scores(self, seg: Segment, vecs: FloatArray, query: str, q: FloatArray) -> FloatArray:
        """``vecs @ q`` over the whole segment, once per question (see :mod:`whoknows.index.lastquery`)."""
        found, scores = self._last.get(seg, "product", query)
        if not found:
            scores = vecs @ q
            self._last.put(seg, "product", query, scores)
        return cast(FloatArray, scores)

    def _probe(
        self, seg: Segment, ivf: IVF, query: str, q: FloatArray, n_probe: int
    ) -> tuple[npt.NDArray[np.intp], FloatArray]:
        """Rows of the ``n_probe`` lists nearest to ``q`` and their similarities, once per question."""
        found, got = self._last.get(seg, "ivf", (query, n_probe))
        if found:
            return cast(tuple[npt.NDArray[np.intp], FloatArray], got)
        vecs = seg.ivf_vectors32()
        assert vecs is not None
        lists = np.sort(ivf.probes(q, n_probe))
        bounds = list(zip(ivf.indptr[lists].tolist(), ivf.indptr[lists + 1].tolist(), strict=True))
        rows = np.asarray(ivf.order[np.concatenate([np.arange(a, b, dtype=np.intp) for a, b in bounds])], np.intp)
        scores = np.concatenate([vecs[a:b] @ q for a, b in bounds])
        self._last.put(seg, "ivf", (query, n_probe), (rows, scores))
        return rows, scores

    def _query_vector(self, query: str) -> FloatArray:
        """The question's vector, embedded once per question (ranking and :meth:`similarity` share it)."""
        if self._qvec is not None and self._qvec[0] == query:
            return self._qvec[1]
        q: FloatArray = embed_queries(self.embedder, [query])[0].astype(np.float32)
        self._qvec = (query, q)
        return q

    def similarity(self, query: str, doc_ids: list[int]) -> dict[int, float]:
        """Cosine of the question and each stored document (ids not in the index are left out). Reads the
        stored vectors: nothing is embedded but the question."""
        if not doc_ids or not query.strip():
            return {}
        q = self._query_vector(query)
        wanted = np.asarray(doc_ids, dtype=np.int64)
        out: dict[int, float] = {}
        for seg in self.source.segments:  # oldest first: a newer copy of a document wins
            if seg.vectors is None or len(seg) == 0:
                continue
            rows = np.flatnonzero(np.isin(seg.doc_ids, wanted))
            if len(rows):
                vecs = np.asarray(seg.vectors[rows], dtype=np.float32)
                for doc, score in zip(seg.doc_ids[rows].tolist(), (vecs @ q).tolist(), strict=True):
                    out[int(doc)] = float(score)
        return out

    def rank(self, query: str, k: int, filters: Filters = NO_FILTER) -> list[Scored]:
        if k <= 0 or filters.allows_nothing() or not query.strip():
            return []
        q = self._query_vector(query)
        if not np.any(q):
            return []
        parts = []
        for seg in self.source.segments:
            if seg.vectors is None or len(seg) == 0:
                continue
            parts.append(self._rank_segment(seg, query, q, k, filters))
        return as_scored(merge_ranked(parts, k))

    def _rank_segment(self, seg: Segment, query: str, q: FloatArray, k: int, filters: Filters) -> Ranked:
        # The vectors in row order (float32) are only materialised when a path below needs them: a segment
        # searched through its IVF lists keeps only the copy in list order.
        mask = seg.mask(filters)
        if mask is not None and filters.spaces is not None:
            ranges = seg.space_ranges(filters.spaces)
            if seg.sorted_by_space and sum(b - a for a, b in ranges) < GATHER_BELOW * len(seg):
                # A small share of the segment: score only its allowed spaces' contiguous rows, exactly.
                if not ranges:
                    return merge_ranked([], k)
                rows = np.concatenate([np.arange(a, b, dtype=np.intp) for a, b in ranges])
                vecs = seg.vectors32()
                assert vecs is not None
                scores = np.concatenate([vecs[a:b] @ q for a, b in ranges]) + SHIFT
                return best_of(seg, cast(FloatArray, scores), k, SHIFT, rows, mask[rows])
        if self.exact or seg.ivf is None:
            vecs = seg.vectors32()
            assert vecs is not None
            return top_candidates(seg, self._all_scores(seg, vecs, query, q) + SHIFT, k, filters, shift=SHIFT)
        return self._rank_ivf(seg, seg.ivf, query, q, k, mask)

    def _rank_ivf(self, seg: Segment, ivf: IVF, query: str, q: FloatArray, k: int, mask: BoolArray | None) -> Ranked:
        """Approximate: score the vectors of the lists nearest to ``q``; probe more lists while the permission
        filter leaves fewer than ``k`` documents among them."""
        n_probe = ivf.first_probes()
        while True:
            rows, scores = self._probe(seg, ivf, query, q, n_probe)
            allowed = None if mask is None else mask[rows]
            enough = len(rows) if allowed is None else int(np.count_nonzero(allowed))
            if enough >= k or n_probe >= ivf.n_lists:
                break
            n_probe = min(ivf.n_lists, n_probe * 4)
        scores = scores + SHIFT
        return best_of(seg, scores, k, SHIFT, rows, allowed)
