"""Static embeddings: a table of token vectors, weighted-averaged per text (SIF, Arora et al. ICLR 2017).

Two sources of tables share this runtime (numpy/scipy only, thousands of texts per second on one core):

* :func:`train_static` learns word vectors from the organisation's own corpus: PPMI of a windowed
  co-occurrence matrix (context distribution smoothing 0.75) factored by truncated SVD (Levy, Goldberg &
  Dagan, TACL 2015), with the index analyzer as tokenizer. Only terms seen in at least ``min_df`` documents
  enter the table.
* :mod:`whoknows.index.embedders.distill` distils MiniLM's token embeddings (model2vec-style, WordPiece
  tokenizer).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.linalg import svds

from whoknows.index.analyzer import MAX_QUERY_CHARS, analyze
from whoknows.index.embedders.base import normalize_rows
from whoknows.index.embedders.wordpiece import tokenize_ids
from whoknows.index.errors import SearchIndexError

SIF_A = 1e-3
MAX_TEXT_CHARS = 20 * MAX_QUERY_CHARS


class StaticEmbedder:
    kind = "static"

    def __init__(
        self,
        vocab: Sequence[str],
        vectors: npt.NDArray[np.float32],
        weights: npt.NDArray[np.float32],
        *,
        tokenizer: str = "analyzer",
        name: str = "static",
        common: npt.NDArray[np.float32] | None = None,
    ) -> None:
        if tokenizer not in ("analyzer", "wordpiece"):
            raise ValueError(f"unknown tokenizer {tokenizer!r}")
        self.vocab = list(vocab)
        self.index = {t: i for i, t in enumerate(self.vocab)}
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.weights = np.asarray(weights, dtype=np.float32)
        self.tokenizer = tokenizer
        self.name = name
        self.dim = int(self.vectors.shape[1])
        self.common = common

    def token_ids(self, text: str) -> list[int]:
        text = text[:MAX_TEXT_CHARS]
        if self.tokenizer == "wordpiece":
            return tokenize_ids(text, self.index)
        get = self.index.get
        return [i for i in (get(t) for t in analyze(text)) if i is not None]

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        rows = [self.token_ids(t) for t in texts]
        lengths = np.fromiter((len(r) for r in rows), np.int64, len(rows))
        cols = np.fromiter((i for r in rows for i in r), np.int64, int(lengths.sum()))
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        m = sp.csr_matrix((self.weights[cols], cols, indptr), shape=(len(rows), len(self.vocab)))
        out = np.asarray(m @ self.vectors, dtype=np.float32)
        if self.common is not None:
            out -= np.outer(out @ self.common, self.common).astype(np.float32)
        return normalize_rows(out)

    def prune(self, keep: Callable[[str], bool]) -> int:
        """Drop table rows whose token ``keep`` rejects (erasure of terms no document uses any more)."""
        if self.tokenizer != "analyzer":
            return 0
        kept = [i for i, t in enumerate(self.vocab) if keep(t)]
        removed = len(self.vocab) - len(kept)
        if removed:
            self.vocab = [self.vocab[i] for i in kept]
            self.index = {t: i for i, t in enumerate(self.vocab)}
            self.vectors, self.weights = self.vectors[kept], self.weights[kept]
        return removed

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "vocab.txt").write_text("\n".join(self.vocab), encoding="utf-8")
        np.save(folder / "vectors.npy", self.vectors.astype(np.float16))
        np.save(folder / "weights.npy", self.weights)
        if self.common is not None:
            np.save(folder / "common.npy", self.common)
        meta = {"tokenizer": self.tokenizer, "name": self.name}
        (folder / "static.json").write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> StaticEmbedder:
        meta = json.loads((folder / "static.json").read_text(encoding="utf-8"))
        text = (folder / "vocab.txt").read_text(encoding="utf-8")
        common_path = folder / "common.npy"
        return cls(
            text.split("\n") if text else [],
            np.load(folder / "vectors.npy").astype(np.float32),
            np.load(folder / "weights.npy"),
            tokenizer=meta["tokenizer"],
            name=meta["name"],
            common=np.load(common_path) if common_path.exists() else None,
        )


def _cooccurrence(docs: list[npt.NDArray[np.int64]], size: int, window: int) -> sp.csr_matrix:
    flat = np.concatenate(docs) if docs else np.zeros(0, np.int64)
    doc_of = np.repeat(np.arange(len(docs)), [len(d) for d in docs])
    rows, cols, vals = [], [], []
    for off in range(1, window + 1):
        same = doc_of[off:] == doc_of[:-off]
        a, b = flat[:-off][same], flat[off:][same]
        w = np.full(len(a), 1.0 / off)
        rows += [a, b]
        cols += [b, a]
        vals += [w, w]
    data = np.concatenate(vals) if vals else np.zeros(0)
    r = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    return sp.csr_matrix((data, (r, c)), shape=(size, size))


def train_static(
    texts: Iterable[str],
    *,
    dim: int = 128,
    window: int = 5,
    min_df: int = 2,
    max_vocab: int = 100_000,
    name: str = "static-ppmi-svd",
) -> StaticEmbedder:
    """Learn a :class:`StaticEmbedder` from a corpus (PPMI + truncated SVD + SIF weights)."""
    term_lists = [analyze(t[:MAX_TEXT_CHARS]) for t in texts]
    df: dict[str, int] = {}
    tf: dict[str, int] = {}
    for terms in term_lists:
        for t in terms:
            tf[t] = tf.get(t, 0) + 1
        for t in set(terms):
            df[t] = df.get(t, 0) + 1
    vocab = sorted((t for t, n in df.items() if n >= min_df), key=lambda t: (-tf[t], t))[:max_vocab]
    index = {t: i for i, t in enumerate(vocab)}
    docs = [np.array([index[t] for t in terms if t in index], dtype=np.int64) for terms in term_lists]
    counts = _cooccurrence(docs, len(vocab), window)
    total = counts.sum()
    if len(vocab) < 3 or total == 0:
        raise SearchIndexError(
            f"corpus too small to train a static embedder ({len(vocab)} terms seen in >= {min_df} documents); "
            "index without vectors (lexical only) until there is more text",
            code="index.corpus_too_small",
        )
    row = np.asarray(counts.sum(axis=1)).ravel()
    ctx = row**0.75
    coo = counts.tocoo()
    pmi = np.log(coo.data * ctx.sum() / (row[coo.row] * ctx[coo.col]))
    keep = pmi > 0
    ppmi = sp.csr_matrix((pmi[keep], (coo.row[keep], coo.col[keep])), shape=counts.shape)
    k = max(1, min(dim, len(vocab) - 2))
    u, s, _ = svds(ppmi.astype(np.float64), k=k, random_state=0)
    vectors = normalize_rows((u * np.sqrt(s)).astype(np.float32))
    freq = np.array([tf[t] for t in vocab], dtype=np.float64)
    weights = (SIF_A / (SIF_A + freq / freq.sum())).astype(np.float32)
    emb = StaticEmbedder(vocab, vectors, weights, name=name)
    sample = emb.embed([t for t in texts_sample(term_lists)])
    _, _, vt = np.linalg.svd(sample, full_matrices=False)
    emb.common = vt[0].astype(np.float32)
    return emb


def texts_sample(term_lists: list[list[str]], n: int = 20_000) -> list[str]:
    step = max(1, len(term_lists) // n)
    return [" ".join(t) for t in term_lists[::step] if t]
