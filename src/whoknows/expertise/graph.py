"""Authority on the help graph: PageRank over asker -> answerer edges (ExpertiseRank, Zhang et al. WWW 2007).

Someone who answers people who themselves answer others gets more authority than someone who answers many
newcomers. The damping factor 0.85 is the usual one from Brin & Page; it is not tuned on any data.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

DAMPING = 0.85


def pagerank(
    src: npt.NDArray[np.int64], dst: npt.NDArray[np.int64], n: int, *, iterations: int = 40, tol: float = 1e-9
) -> npt.NDArray[np.float64]:
    """PageRank of ``n`` nodes on weighted edges ``src[i] -> dst[i]`` (repeated edges add weight); sums to 1."""
    if n == 0:
        return np.zeros(0)
    rank = np.full(n, 1.0 / n)
    if len(src) == 0:
        return rank
    out_w = np.bincount(src, minlength=n).astype(np.float64)
    dangling = out_w == 0
    for _ in range(iterations):
        share = np.where(dangling, 0.0, rank / np.maximum(out_w, 1.0))
        new = np.bincount(dst, weights=share[src], minlength=n)
        new = DAMPING * (new + rank[dangling].sum() / n) + (1 - DAMPING) / n
        if np.abs(new - rank).sum() < tol:
            return np.asarray(new, dtype=np.float64)
        rank = new
    return rank
