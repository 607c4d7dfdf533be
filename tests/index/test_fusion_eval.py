from __future__ import annotations

import pytest

from whoknows.index import NO_FILTER, Cutoff, Filters, Pipeline, RRFFusion, Scored, evaluate, rrf_scores
from whoknows.index.evaluate import format_table


class Fixed:
    def __init__(self, ids: list[int]) -> None:
        self.ids = ids
        self.seen: list[Filters] = []

    def rank(self, query: str, k: int, filters: Filters = NO_FILTER) -> list[Scored]:
        self.seen.append(filters)
        return [Scored(d, 1.0 / (i + 1)) for i, d in enumerate(self.ids[:k])]


class Reverse:
    def rerank(self, query: str, candidates: list[Scored], k: int) -> list[Scored]:
        return [Scored(c.doc_id, float(i)) for i, c in enumerate(reversed(candidates))][:k]


def test_rrf_math() -> None:
    fused = rrf_scores([[Scored(1, 9), Scored(2, 8)], [Scored(2, 1), Scored(3, 0.5)]], [1.0, 2.0], rrf_k=60)
    assert fused[1] == pytest.approx(1 / 61)
    assert fused[2] == pytest.approx(1 / 62 + 2 / 61)
    assert fused[3] == pytest.approx(2 / 62)


def test_rrf_fusion_ranker_passes_filters_and_orders() -> None:
    a, b = Fixed([1, 2, 3]), Fixed([3, 2, 4])
    f = Filters.of(spaces=[1])
    out = RRFFusion([a, b], [1.0, 1.0]).rank("q", 2, f)
    assert [h.doc_id for h in out] == [3, 2]  # 3: 1/63+1/61 > 2: 2/62 (convexity) > 1: 1/61
    assert a.seen == [f] and b.seen == [f]


def test_cutoff_and_pipeline() -> None:
    assert [h.doc_id for h in Cutoff(Fixed([1, 2, 3, 4]), 2).rank("q", 10)] == [1, 2]
    assert [h.doc_id for h in Pipeline(Fixed([1, 2, 3]), Reverse(), depth=3).rank("q", 2)] == [3, 2]


def test_semeval_map_by_hand() -> None:
    qrels = {"q1": {"a": 1, "b": 0, "c": 1, "d": 1}, "q2": {"x": 1}, "q3": {"y": 0}}
    runs = {"r": {"q1": ["a", "b", "c"], "q2": ["z", "x"]}}
    table = evaluate(runs, qrels, ["map", "map_full", "mrr", "p@1", "r@2"])["r"]
    # q1: precision at relevant ranks 1 and 3 = 1, 2/3 -> AP over found (2) = 5/6; q2: 1/2; q3: 0 (none relevant)
    assert table["map"] == pytest.approx((5 / 6 + 1 / 2 + 0) / 3)
    assert table["map_full"] == pytest.approx(((1 + 2 / 3) / 3 + 1 / 2 + 0) / 3)
    assert table["mrr"] == pytest.approx((1 + 1 / 2 + 0) / 3)
    assert table["p@1"] == pytest.approx(1 / 3)
    assert table["r@2"] == pytest.approx((1 / 3 + 1 + 0) / 3)
    assert "map" in format_table({"r": table})


def test_semeval_map_counts_only_top_10() -> None:
    ranking = [f"n{i}" for i in range(10)] + ["rel"]
    assert evaluate({"r": {"q": ranking}}, {"q": {"rel": 1}}, ["map"])["r"]["map"] == 0.0
    with pytest.raises(ValueError):
        evaluate({"r": {"q": ranking}}, {"q": {"rel": 1}}, ["bogus"])
