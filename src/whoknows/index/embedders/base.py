"""The embedder protocol and the registry that saves/loads an index's embedder by its ``kind``.

Kinds: ``static`` (a token -> vector table: trained on the organisation's corpus by :func:`train_static`, or
distilled from MiniLM by :mod:`.distill`; numpy only) and ``minilm`` (the transformer itself, needs the
``embeddings-torch`` extra).
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


def normalize_rows(m: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    out: npt.NDArray[np.float32] = np.divide(m, norms, out=np.zeros_like(m), where=norms > 0).astype(np.float32)
    return out


def save_embedder(embedder: Embedder, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    embedder.save(folder)
    meta = {"kind": embedder.kind, "name": embedder.name, "dim": embedder.dim}
    (folder / "embedder.json").write_text(json.dumps(meta), encoding="utf-8")


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
    raise IndexCorruptError(f"unknown embedder kind {kind!r} in {folder}")
