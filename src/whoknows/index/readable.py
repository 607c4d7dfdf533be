"""BM25 over the part of the collection one reader may see: only readable postings are ever touched.

A permission filter on spaces makes BM25 score the reader's sub-collection as if it were the whole index: the
document count, the average length, each term's document frequency and every posting read come from the
readable rows only. Nothing a reader can observe then depends on text they may not read: not the scores (a
global idf would drop when a private channel repeats a word), not the choice of the rarest query terms, and not
the work done (a word found only in someone else's DMs costs what a word found nowhere costs).

Segment rows are sorted by space, so a reader's rows are a few contiguous ranges, and inside one term's posting
list (sorted by row) the readable postings are the matching contiguous slices, found by binary search. A legacy
segment whose rows are not sorted by space falls back to masking the posting list.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from whoknows.index.segment import FloatArray, Segment

IntArray = npt.NDArray[np.int64]
#: A posting list up to this many times the number of range bounds is masked rather than binary-searched.
GATHER_BELOW = 4


@dataclass(frozen=True, slots=True)
class ReadableRows:
    """The rows of one segment a reader may see: ``bounds`` = flat ``[start0, end0, start1, end1, ...]``."""

    bounds: IntArray | None  # None: the segment is not sorted by space (use ``mask``)
    mask: npt.NDArray[np.bool_]  # per row: readable?
    count: int
    total_length: int

    def slices(self, seg: Segment, term_id: int) -> tuple[int, IntArray]:
        """(document frequency among readable rows, positions of those postings in ``seg.postings``).

        A short posting list is masked (a few gathers), a long one cut by binary search at the range bounds
        (its unreadable parts are never read); either way the cost follows the readable postings, not the list."""
        lo, hi = int(seg.indptr[term_id]), int(seg.indptr[term_id + 1])
        post = seg.postings[lo:hi]
        if self.bounds is None or hi - lo <= GATHER_BELOW * len(self.bounds):
            where = np.flatnonzero(self.mask[post]).astype(np.int64) + lo
            return len(where), where
        cuts = np.searchsorted(post, self.bounds)
        starts, ends = cuts[0::2], cuts[1::2]
        sizes = ends - starts
        n = int(sizes.sum())
        if not n:
            return 0, np.zeros(0, dtype=np.int64)
        keep = sizes > 0
        starts, sizes = starts[keep], sizes[keep]
        # Positions starts[i] .. starts[i] + sizes[i] - 1 for every slice, without a Python loop.
        offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(sizes)[:-1])), sizes)
        return n, np.arange(n, dtype=np.int64) + offsets + lo


def readable_rows(seg: Segment, spaces: frozenset[int]) -> ReadableRows:
    """The rows of ``seg`` in ``spaces``, with their count and summed length."""
    from whoknows.index.contract import Filters

    prefix = seg.length_prefix()
    mask = seg.mask(Filters(spaces=spaces))  # kept per reader by the segment
    assert mask is not None
    if seg.space_sorted():
        starts, ends = seg.space_bounds(spaces)
        bounds = np.empty(2 * len(starts), dtype=np.int64)
        bounds[0::2], bounds[1::2] = starts, ends
        count = int((ends - starts).sum())
        total = int((prefix[ends] - prefix[starts]).sum())
        return ReadableRows(bounds, mask, count, total)
    lengths = np.asarray(seg.lengths, dtype=np.int64)
    return ReadableRows(None, mask, int(mask.sum()), int(lengths[mask].sum()))


def readable_scores(
    seg: Segment,
    postings: dict[str, IntArray],
    weights: tuple[tuple[str, float], ...],
    avgdl: float,
    k1: float,
    b: float,
) -> FloatArray | None:
    """Dense BM25 scores of ``seg``'s rows (zero outside the reader's rows) with the reader's ``avgdl``, from the
    positions of each term's readable postings (:meth:`ReadableRows.slices`); ``None`` when no readable row holds
    a query term."""
    scores: FloatArray | None = None
    lengths = seg.lengths
    for term, w in weights:
        where = postings.get(term)
        if where is None:
            continue
        rows = seg.postings[where]
        tf = np.asarray(seg.tfs[where], dtype=np.float32)
        norm = (1 - b) + b * np.asarray(lengths[rows], dtype=np.float32) / np.float32(avgdl)
        if scores is None:
            scores = np.zeros(len(seg), dtype=np.float32)
        np.add.at(scores, rows, np.float32(w) * (tf * np.float32(k1 + 1) / (tf + np.float32(k1) * norm)))
    return scores
