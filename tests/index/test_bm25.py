from __future__ import annotations

import math
from pathlib import Path

import pytest

from whoknows.index import Doc, Filters, SearchIndex
from whoknows.index.analyzer import analyze

DOCS = [
    Doc(10, "apple banana", 1),
    Doc(11, "apple apple apple cherry", 1),
    Doc(12, "banana cherry durian elderberry fig grape", 1),
    Doc(13, "kiwi", 1),
]


def bm25(tf: int, dl: int, avgdl: float, df: int, n: int, k1: float = 1.2, b: float = 0.75) -> float:
    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
    return idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))


@pytest.fixture
def index(tmp_path: Path) -> SearchIndex:
    return SearchIndex.build(tmp_path / "ix", DOCS)


def test_single_term_scores_match_formula(index: SearchIndex) -> None:
    avgdl = (2 + 4 + 6 + 1) / 4
    hits = index.lexical.rank("apple", 10)
    assert [h.doc_id for h in hits] == [11, 10]  # tf 3 beats tf 1
    assert hits[0].score == pytest.approx(bm25(3, 4, avgdl, 2, 4), rel=1e-5)
    assert hits[1].score == pytest.approx(bm25(1, 2, avgdl, 2, 4), rel=1e-5)


def test_rarer_term_and_length_normalisation(index: SearchIndex) -> None:
    # "banana cherry": doc 10 has banana (short doc), 11 cherry, 12 both but is long.
    ranked = [h.doc_id for h in index.lexical.rank("banana cherry", 10)]
    assert ranked[0] == 12
    assert set(ranked) == {10, 11, 12}
    assert index.lexical.rank("kiwi", 10)[0].doc_id == 13


def test_stemming_and_case_match(index: SearchIndex) -> None:
    assert [h.doc_id for h in index.lexical.rank("APPLES", 10)] == [11, 10]
    assert analyze("Running runners ran") == ["run", "runner", "ran"]


def test_segments_share_global_statistics(tmp_path: Path) -> None:
    one = SearchIndex.build(tmp_path / "one", DOCS)
    many = SearchIndex.build(tmp_path / "many", DOCS, segment_size=1)
    assert len(many.segments) == 4
    for q in ("apple", "banana cherry", "fig kiwi"):
        a, b = one.lexical.rank(q, 10), many.lexical.rank(q, 10)
        assert [h.doc_id for h in a] == [h.doc_id for h in b]
        assert [h.score for h in a] == pytest.approx([h.score for h in b], rel=1e-5)


def test_filters_inside_retrieval(index: SearchIndex) -> None:
    assert index.lexical.rank("apple", 10, Filters.of(spaces=[2])) == []
    assert index.lexical.rank("apple", 0) == []
