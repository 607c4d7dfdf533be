"""BM25 over the index segments (numpy), with the permission filter applied to candidates before the top-k
cut.

Scoring is Okapi BM25 (k1=1.2, b=0.75) with Lucene's idf ``log(1 + (N - df + 0.5) / (df + 0.5))``. Without a
space filter (offline use) collection statistics (N, df, average length) are global over all segments and the
per-posting impacts ``tf (k1+1) / (tf + k1 (1 - b + b dl/avgdl))`` are computed once per segment and cached; a
query then costs one gather-add per query term. With a space filter (every read for a person) the statistics and
the postings read are the reader's own (:mod:`whoknows.index.readable`): nothing depends on what they cannot read.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Sequence
from typing import Protocol, cast

import numpy as np
import numpy.typing as npt

from whoknows.index.analyzer import analyze_query
from whoknows.index.contract import NO_FILTER, Filters, Scored
from whoknows.index.lastquery import LastQuery
from whoknows.index.readable import IntArray, readable_rows, readable_scores
from whoknows.index.segment import BoolArray, FloatArray, Segment

MAX_QUERY_TERMS = 64
#: (term weights, average length, per segment: term -> positions of its readable postings, readable documents)
ReaderStats = tuple[tuple[tuple[str, float], ...], float, list[dict[str, "npt.NDArray[np.int64]"]], int]


class SegmentSource(Protocol):
    @property
    def segments(self) -> Sequence[Segment]: ...


#: ``top_rows`` estimates its threshold from every ``SAMPLE_STEP``-th value: one float32 per four 64-byte cache
#: lines (a stride of 16 touches every line, as much memory traffic as a full pass: 3x slower, measured).
SAMPLE_STEP = 64


def top_rows(values: FloatArray, k: int, mask: BoolArray | None = None) -> npt.NDArray[np.intp]:
    """Indices of the (at most) ``k`` largest positive ``values`` (only where ``mask`` allows, when given), exact,
    in no particular order.

    A strided sample gives a threshold that about ``2k`` allowed values pass, so only those are compared and
    partitioned (a full partition of 250,000 scores costs ~20 times more; masking every value first, another
    full pass and copy); when fewer than ``k`` pass, all positive allowed values are used."""
    n = len(values)
    if k <= 0 or n == 0:
        return np.zeros(0, dtype=np.intp)
    if n >= 64 * k:
        sample = values[::SAMPLE_STEP]
        keep = sample > 0  # (partitioning many equal zeros is ~10 times slower)
        if mask is not None:
            keep &= mask[::SAMPLE_STEP]
        sample = sample[keep]
        m = 2 * (k // SAMPLE_STEP) + 8
        if len(sample) > m:
            threshold = np.partition(sample, len(sample) - m)[len(sample) - m]
            rows = np.flatnonzero(values >= threshold)
            if mask is not None:
                rows = rows[mask[rows]]
            if len(rows) >= k:
                return rows if len(rows) == k else rows[np.argpartition(-values[rows], k - 1)[:k]]
    rows = np.flatnonzero(values > 0 if mask is None else (values > 0) & mask)
    if len(rows) > k:
        rows = rows[np.argpartition(-values[rows], k - 1)[:k]]
    return rows


Ranked = tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]


def top_candidates(seg: Segment, scores: FloatArray, k: int, filters: Filters, shift: float = 0.0) -> Ranked:
    """The ``k`` best documents of ``seg`` that the filters allow, as (doc ids, scores) arrays, from dense per-row
    ``scores`` in which only positive values count (a ranker whose scores can be negative passes them raised by
    ``shift`` and gets them back lowered by it)."""
    return best_of(seg, scores, k, shift, mask=seg.mask(filters))


def best_of(
    seg: Segment,
    scores: FloatArray,
    k: int,
    shift: float = 0.0,
    rows: npt.NDArray[np.intp] | None = None,
    mask: BoolArray | None = None,
) -> Ranked:
    """(doc ids, scores lowered by ``shift``) of the ``k`` best positive ``scores`` that ``mask`` allows (all when
    ``None``); the scores belong to the segment's ``rows`` (all rows when ``None``)."""
    top = top_rows(scores, k, mask)
    picked = top if rows is None else rows[top]
    return np.asarray(seg.doc_ids[picked], dtype=np.int64), scores[top].astype(np.float64) - shift


def merge_ranked(parts: Sequence[Ranked], k: int) -> Ranked:
    """The ``k`` best of several segments' results, by score then doc id (deterministic)."""
    if not parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    ids = np.concatenate([p[0] for p in parts])
    scores = np.concatenate([p[1] for p in parts])
    order = np.lexsort((ids, -scores))[:k]
    return ids[order], scores[order]


def as_scored(ranked: Ranked) -> list[Scored]:
    return [Scored(i, s) for i, s in zip(ranked[0].tolist(), ranked[1].tolist(), strict=True)]


class BM25Retriever:
    """Lexical ranker conforming to :class:`whoknows.index.contract.Ranker`."""

    def __init__(self, source: SegmentSource, k1: float = 1.2, b: float = 0.75) -> None:
        self.source = source
        self.k1, self.b = k1, b
        self._impacts: dict[tuple[str, float], FloatArray] = {}
        self._last = LastQuery()
        self._reader_memo = threading.local()

    def _avgdl(self, segments: Sequence[Segment]) -> tuple[int, float]:
        n = sum(len(s) for s in segments)
        total = sum(s.total_length() for s in segments)
        return n, (total / n if n else 1.0)

    def impacts(self, seg: Segment, avgdl: float) -> FloatArray:
        key = (str(seg.path), round(avgdl, 3))
        cached = self._impacts.get(key)
        if cached is None:
            for old in [k for k in self._impacts if k[0] == key[0]]:
                del self._impacts[old]
            tf = np.asarray(seg.tfs, dtype=np.float32)
            norm = (1 - self.b) + self.b * np.asarray(seg.lengths, dtype=np.float32)[seg.postings] / avgdl
            cached = (tf * (self.k1 + 1) / (tf + self.k1 * norm)).astype(np.float32)
            self._impacts[key] = cached
        return cached

    def query_terms(self, query: str) -> Counter[str]:
        return Counter(analyze_query(query)[: MAX_QUERY_TERMS * 4])

    def rank(self, query: str, k: int, filters: Filters = NO_FILTER) -> list[Scored]:
        return as_scored(self.rank_arrays(query, k, filters))

    def rank_arrays(self, query: str, k: int, filters: Filters = NO_FILTER) -> Ranked:
        """:meth:`rank` as (doc ids, scores) arrays, best first (no per-hit Python objects: the expert finder
        takes 300 hits per question)."""
        segments = list(self.source.segments)
        qterms = self.query_terms(query)
        if k <= 0 or not qterms or filters.allows_nothing() or not segments:
            return merge_ranked([], k)
        if filters.spaces is not None:
            return self._rank_readable(segments, qterms, k, filters)
        return self._rank_global(segments, qterms, k, filters)

    def _rank_global(self, segments: Sequence[Segment], qterms: Counter[str], k: int, filters: Filters) -> Ranked:
        """:meth:`rank_arrays` with statistics over every document and cached impacts, ``filters`` applied at the
        top-k cut (offline use; ``bench/bench_reader_statistics.py`` times it against the reader's statistics)."""
        n_docs, avgdl = self._avgdl(segments)
        df = Counter[str]()
        for seg in segments:
            for t in qterms:
                tid = seg.term_index.get(t)
                if tid is not None:
                    df[t] += seg.df(tid)
        # Keep the rarest terms of very long queries: they carry the meaning and bound the cost.
        chosen = sorted((t for t in qterms if df[t]), key=lambda t: df[t])[:MAX_QUERY_TERMS]
        idf = {t: math.log(1 + (n_docs - df[t] + 0.5) / (df[t] + 0.5)) * qterms[t] for t in chosen}
        weights = tuple(sorted(idf.items()))
        parts = []
        for seg in segments:
            scores = self._scores(seg, weights, avgdl)
            if scores is not None:
                parts.append(top_candidates(seg, scores, k, filters))
        return merge_ranked(parts, k)

    def _rank_readable(self, segments: Sequence[Segment], qterms: Counter[str], k: int, filters: Filters) -> Ranked:
        """:meth:`rank_arrays` over the rows of ``filters.spaces`` only, with their own statistics."""
        assert filters.spaces is not None
        weights, avgdl, postings, _ = self._reader_memoised(segments, qterms, filters.spaces)
        parts = []
        for seg, found_postings in zip(segments, postings, strict=True):
            last_key = (weights, avgdl, filters.spaces)
            found, scores = self._last.get(seg, "bm25-readable", last_key)
            if not found:
                scores = readable_scores(seg, found_postings, weights, avgdl, self.k1, self.b)
                self._last.put(seg, "bm25-readable", last_key, scores)
            if scores is not None:
                parts.append(top_candidates(seg, scores, k, filters))
        return merge_ranked(parts, k)

    def term_idf(self, query: str, filters: Filters) -> tuple[dict[str, float], float]:
        """Each query term's BM25 idf among the documents ``filters.spaces`` allows (a term no such document
        holds is left out), and the idf such an absent term would have: how rare, for this reader, the words
        of the question are (the confidence of an answer looks at which of them it covers)."""
        segments = list(self.source.segments)
        qterms = self.query_terms(query)
        spaces = filters.spaces
        if spaces is None:  # offline use: the whole collection is the reader's
            spaces = frozenset(int(s) for seg in segments for s in np.unique(np.asarray(seg.spaces)))
        weights, _, _, n_docs = self._reader_memoised(segments, qterms, spaces)
        idf = {t: w / qterms[t] for t, w in weights}
        return idf, math.log(1 + (n_docs + 0.5) / 0.5)

    def _reader_memoised(
        self, segments: Sequence[Segment], qterms: Counter[str], spaces: frozenset[int]
    ) -> ReaderStats:
        key = (tuple(sorted(qterms.items())), spaces)
        memo = getattr(self._reader_memo, "last", None)
        if memo is not None and memo[0] == key and memo[1] == segments:
            return memo[2]  # type: ignore[no-any-return]
        stats = self._reader_statistics(segments, qterms, spaces)
        self._reader_memo.last = (key, list(segments), stats)
        return stats

    def _reader_statistics(
        self, segments: Sequence[Segment], qterms: Counter[str], spaces: frozenset[int]
    ) -> ReaderStats:
        """(term weights, average length, per segment the positions of each term's readable postings, number of
        readable documents) over the reader's rows; once per question (its searches for solved and open
        questions share them)."""
        views = [readable_rows(seg, spaces) for seg in segments]
        n_docs = sum(v.count for v in views)
        if not n_docs:
            return (), 1.0, [{} for _ in segments], 0
        avgdl = sum(v.total_length for v in views) / n_docs
        df = Counter[str]()
        postings: list[dict[str, IntArray]] = []  # per segment: term -> positions of its readable postings
        for seg, view in zip(segments, views, strict=True):
            of_seg: dict[str, IntArray] = {}
            for t in qterms:
                tid = seg.term_index.get(t)
                if tid is not None:
                    n, where = view.slices(seg, tid)
                    if n:
                        df[t] += n
                        of_seg[t] = where
            postings.append(of_seg)
        chosen = sorted((t for t in qterms if df[t]), key=lambda t: df[t])[:MAX_QUERY_TERMS]
        idf = {t: math.log(1 + (n_docs - df[t] + 0.5) / (df[t] + 0.5)) * qterms[t] for t in chosen}
        return tuple(sorted(idf.items())), avgdl, postings, n_docs

    def _scores(self, seg: Segment, weights: tuple[tuple[str, float], ...], avgdl: float) -> FloatArray | None:
        """Dense BM25 scores of every row of ``seg`` (``None``: no query term in it), once per question (see
        :mod:`whoknows.index.lastquery`)."""
        found, scores = self._last.get(seg, "bm25", (weights, avgdl))
        if found:
            return cast(FloatArray | None, scores)
        ids = [(seg.term_index[t], w) for t, w in weights if t in seg.term_index]
        if ids:
            imp = self.impacts(seg, avgdl)
            scores = np.zeros(len(seg), dtype=np.float32)
            for tid, w in ids:
                lo, hi = seg.indptr[tid], seg.indptr[tid + 1]
                np.add.at(scores, seg.postings[lo:hi], w * imp[lo:hi])  # (numpy 2: ~3x faster than +=)
        self._last.put(seg, "bm25", (weights, avgdl), scores)
        return cast(FloatArray | None, scores)
