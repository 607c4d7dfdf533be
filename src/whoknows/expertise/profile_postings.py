"""Person-profile postings: per term, the summed term frequency of each (author, space) in a segment's answers.

The profile model (Balog's Model 1) needs, for each query term, every person's term frequency over the answers
the asker may read. Summing message postings per author at question time touches every answer that uses the
term; these postings are pre-aggregated per (term, author, space), about six times fewer entries on the demo
organisation, and the asker's readable spaces still apply (by space). Built from a segment on first use (well
under a second per 250,000 messages) and kept with the open model; only for questions without a time cut
(live questions; training questions filter by time and use the message postings).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from whoknows.index.segment import Segment

I64 = npt.NDArray[np.int64]


@dataclass
class ProfilePostings:
    indptr: I64  # per segment term id: entries [indptr[t], indptr[t + 1])
    author: I64
    space_code: npt.NDArray[np.intp]  # into the segment's distinct spaces (Segment.space_lut order)
    tf: npt.NDArray[np.float64]

    @classmethod
    def build(cls, seg: Segment, authors: I64, answer_kind: str) -> ProfilePostings:
        """From ``seg``'s postings of documents of ``answer_kind``, ``authors`` per segment row (-1: none)."""
        n_terms = len(seg.terms)
        is_answer = np.array([k == answer_kind for k in seg.kind_names] + [False])[np.asarray(seg.kinds)]
        term_of = np.repeat(np.arange(n_terms, dtype=np.int64), np.diff(seg.indptr))
        rows = np.asarray(seg.postings)
        keep = is_answer[rows] & (authors[rows] >= 0)
        codes = seg.space_codes()
        n_spaces = int(codes.max()) + 1 if len(codes) else 1
        n_authors = int(authors.max()) + 1 if len(authors) else 1
        key = (term_of[keep] * n_authors + authors[rows[keep]]) * n_spaces + codes[rows[keep]]
        uniq, inverse = np.unique(key, return_inverse=True)
        tf = np.bincount(inverse, weights=np.asarray(seg.tfs, dtype=np.float64)[keep], minlength=len(uniq))
        term = uniq // (n_authors * n_spaces)
        indptr = np.zeros(n_terms + 1, dtype=np.int64)
        np.cumsum(np.bincount(term, minlength=n_terms), out=indptr[1:])
        return cls(indptr, (uniq // n_spaces) % n_authors, (uniq % n_spaces).astype(np.intp), tf.astype(np.float64))
