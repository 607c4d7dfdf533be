from __future__ import annotations

from pathlib import Path

import pytest

from whoknows.index import Doc, Filters, SearchIndex
from whoknows.index.embedders import train_static


@pytest.fixture(scope="module")
def crowded(tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    # 300 strongly matching docs in space 1, 15 weaker ones in space 2: a post-filter of the top 10 would be empty.
    docs = [Doc(i, "quota quota quota renewal", 1, "answer", float(i)) for i in range(300)]
    docs += [Doc(1000 + i, f"quota renewal for customer number {i} with a long tail of words", 2) for i in range(15)]
    emb = train_static([d.text for d in docs], dim=4)
    return SearchIndex.build(tmp_path_factory.mktemp("f") / "ix", docs, emb, segment_size=100)


@pytest.mark.parametrize("mode", ["lexical", "vector", "hybrid"])
def test_top_k_filled_from_allowed_spaces_only(crowded: SearchIndex, mode: str) -> None:
    hits = crowded.search("quota renewal", 10, Filters.of(spaces=[2]), mode=mode).hits  # type: ignore[arg-type]
    assert len(hits) == 10
    assert all(h.doc_id >= 1000 for h in hits)


def test_empty_allowed_set_returns_nothing(crowded: SearchIndex) -> None:
    assert crowded.search("quota", 10, Filters.of(spaces=[])).hits == []


def test_kind_and_time_filters(crowded: SearchIndex) -> None:
    hits = crowded.search("quota", 50, Filters.of(kinds={"answer"}, since=10, until=20), mode="lexical").hits
    assert sorted(h.doc_id for h in hits) == list(range(10, 20))
    assert crowded.search("quota", 10, Filters.of(kinds={"question"})).hits == []
    # documents without time or kind are excluded by time/kind filters, included otherwise
    no_time = crowded.search("customer", 10, Filters.of(spaces=[2], since=0), mode="lexical").hits
    assert no_time == []


def test_filters_after_merges_and_deletes(tmp_path: Path) -> None:
    docs = [Doc(i, f"renewal note {i}", i % 5, "answer") for i in range(40)]
    emb = train_static([d.text for d in docs] * 2, dim=3)
    index = SearchIndex.build(tmp_path / "ix", docs, emb, segment_size=7)
    for i in range(12):
        index.add([Doc(100 + i, f"renewal extra {i}", i % 5)])
    index.delete([0, 5, 10])
    for mode in ("lexical", "vector", "hybrid"):
        hits = index.search("renewal", 100, Filters.of(spaces=[0, 3]), mode=mode).hits  # type: ignore[arg-type]
        want = {d.id for d in docs if d.space_id in (0, 3)} - {0, 5, 10} | {
            100 + i for i in range(12) if i % 5 in (0, 3)
        }
        assert {h.doc_id for h in hits} == want, mode
