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
