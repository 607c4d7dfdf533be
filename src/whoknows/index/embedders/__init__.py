"""Embedders: text -> L2-normalised float32 vectors. See :mod:`.base` for the protocol and the registry."""

from whoknows.index.embedders.base import Embedder, load_embedder, save_embedder
from whoknows.index.embedders.static import StaticEmbedder, train_static

__all__ = ["Embedder", "StaticEmbedder", "load_embedder", "save_embedder", "train_static"]
