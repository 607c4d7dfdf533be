"""WordLlama ``l2_supercat`` static token vectors (256 d) from the ``wordllama`` wheel: a table look-up and a
mean per text, numpy only.

The package's own loader looks for its tokenizer under a path the wheel does not use and then tries the network;
this reads both files straight from the installed package instead (``tokenizers`` for the tokenizer, the
safetensors table through :func:`.minilm_numpy.read_safetensors`), so it never downloads.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from whoknows.index.embedders.base import normalize_rows
from whoknows.index.embedders.minilm_numpy import read_safetensors
from whoknows.index.errors import IndexCorruptError, extra_missing

EXTRA = "embeddings"
MAX_TOKENS = 512


class WordLlamaEmbedder:
    kind = "wordllama"
    name = "wordllama l2_supercat (256 d)"
    dim = 256

    def __init__(self) -> None:
        try:
            import wordllama
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise extra_missing(EXTRA, exc.name or "wordllama", "The WordLlama embedder") from exc
        root = Path(wordllama.__file__).parent
        tok_file = root / "tokenizers" / "l2_supercat_tokenizer_config.json"
        weights = root / "weights" / "l2_supercat_256.safetensors"
        if not tok_file.exists() or not weights.exists():
            raise IndexCorruptError(f"the wordllama package at {root} lacks its bundled tokenizer or weights")
        self.tokenizer: Any = Tokenizer.from_file(str(tok_file))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.table = np.asarray(read_safetensors(weights)["embedding.weight"], dtype=np.float32)
        self.dim = int(self.table.shape[1])

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        encodings = self.tokenizer.encode_batch([t if t.strip() else "" for t in texts], add_special_tokens=False)
        for row, (text, enc) in enumerate(zip(texts, encodings, strict=True)):
            if text.strip() and enc.ids:
                out[row] = self.table[enc.ids].mean(axis=0)
        return normalize_rows(out)

    def save(self, folder: Path) -> None:
        """Nothing to save: the table lives in the installed package."""
