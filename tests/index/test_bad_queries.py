from __future__ import annotations

import time

import pytest

from whoknows.index import Doc, SearchIndex
from whoknows.index.analyzer import analyze


@pytest.mark.parametrize("mode", ["lexical", "vector", "hybrid"])
def test_empty_and_blank(toy_index: SearchIndex, mode: str) -> None:
    for q in ("", "   \n\t"):
        res = toy_index.search(q, 10, mode=mode)  # type: ignore[arg-type]
        assert res.hits == [] and res.reason == "empty_query"


def test_only_stop_words(toy_index: SearchIndex) -> None:
    res = toy_index.search("the and of to is", 10)
    assert res.hits == [] and res.reason == "no_searchable_terms"


def test_huge_query_is_truncated_not_choked(toy_index: SearchIndex) -> None:
    q = "vpn password " + "lorem ipsum dolor sit amet " * 4000  # ~100 KB
    assert len(q) > 100_000
    t = time.perf_counter()
    res = toy_index.search(q, 10)
    assert time.perf_counter() - t < 2.0
    assert 1 in [h.doc_id for h in res.hits]


def test_other_scripts(tmp_path: object, toy_index: SearchIndex) -> None:
    toy_index.add(
        [
            Doc(20, "東京で銀行口座を開く方法", 1),
            Doc(21, "كيف أفتح حسابا مصرفيا", 1),
            Doc(22, "Как открыть банковский счёт", 1),
        ]
    )
    for q, want in (("銀行口座", 20), ("حسابا مصرفيا", 21), ("банковский счёт", 22)):
        for mode in ("lexical", "hybrid"):
            res = toy_index.search(q, 5, mode=mode)  # type: ignore[arg-type]
            assert res.hits and res.hits[0].doc_id == want, (q, mode)
    for q in ("🙂🙂", "∑∫√", "\x00\x01", "ǅemal ﬁle"):
        toy_index.search(q, 5)  # never raises


def test_analyzer_scripts() -> None:
    assert analyze("東京") == ["東京"]
    assert analyze("ＡＢＣ Ünïcode") == ["abc", "ünïcode"]
    assert analyze("x" * 500) == []  # absurd tokens are dropped
