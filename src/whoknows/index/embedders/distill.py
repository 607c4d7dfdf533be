"""Distil a static embedder from MiniLM (model2vec-style; Tulkens & van Dongen 2024).

Every WordPiece token of MiniLM's vocabulary is passed through the transformer on its own (``[CLS] tok
[SEP]``, mean-pooled), the table is reduced by PCA to ``dim`` dimensions, and each row is weighted with a SIF
weight computed from a Zipf estimate of the token's frequency (BERT vocabularies are roughly
frequency-ordered). Needs torch only while distilling; the result is a :class:`StaticEmbedder` (numpy only)
that can be saved under the data folder.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from whoknows.index.embedders.base import normalize_rows
from whoknows.index.embedders.minilm import load_sentence_transformer
from whoknows.index.embedders.static import SIF_A, StaticEmbedder


def distill_minilm(
    dim: int = 256, batch_size: int = 512, progress: Callable[[int, int], None] | None = None
) -> StaticEmbedder:
    import torch

    st = load_sentence_transformer()
    tokenizer, transformer = st.tokenizer, st[0].auto_model
    vocab_map: dict[str, int] = tokenizer.get_vocab()
    vocab = [t for t, _ in sorted(vocab_map.items(), key=lambda kv: kv[1])]
    keep = [i for i, t in enumerate(vocab) if not (t.startswith("[") and t.endswith("]"))]
    cls_id, sep_id = tokenizer.cls_token_id, tokenizer.sep_token_id
    rows = []
    with torch.inference_mode():
        for start in range(0, len(keep), batch_size):
            ids = torch.tensor([[cls_id, vocab_map[vocab[i]], sep_id] for i in keep[start : start + batch_size]])
            out = transformer(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state
            rows.append(out.mean(dim=1).numpy().astype(np.float32))
            if progress:
                progress(min(start + batch_size, len(keep)), len(keep))
    table = np.concatenate(rows)
    table -= table.mean(axis=0)
    _, _, vt = np.linalg.svd(table, full_matrices=False)
    reduced = (table @ vt[:dim].T).astype(np.float32)
    rank = np.arange(1, len(keep) + 1, dtype=np.float64)
    proba = (1 / rank) / (1 / rank).sum()
    weights = (SIF_A / (SIF_A + proba)).astype(np.float32)
    return StaticEmbedder(
        [vocab[i] for i in keep],
        normalize_rows(reduced),
        weights,
        tokenizer="wordpiece",
        name=f"minilm-distilled-{dim}",
    )
