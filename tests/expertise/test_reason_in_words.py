"""Each expert says why in words, counted over the matched messages the reader may see."""

from __future__ import annotations

from pathlib import Path

import pytest

from whoknows.demo import DemoConfig, load_demo
from whoknows.derive import reindex
from whoknows.expertise import find_experts
from whoknows.expertise.result import in_words
from whoknows.store import Store


def test_in_words() -> None:
    assert in_words(3, 0, 2, 1, "2026-05-05T10:00:00+00:00", True) == (
        "answered 3 questions like this (2 accepted, 1 thanked), latest on 2026-05-05"
    )
    assert in_words(1, 2, 0, 0, None, True) == "answered 1 question like this and 2 other messages about it"
    assert in_words(0, 1, 0, 0, "2026-01-02", True) == "wrote 1 other message about it, latest on 2026-01-02"
    assert in_words(0, 0, 0, 0, None, False).startswith("no message matches")
    assert in_words(3, 0, 2, 0, "2026-05-05T10:00:00+00:00", True, ["saml", "certificate"], 11) == (
        "answered 3 questions about saml, certificate (2 accepted), latest on 2026-05-05, 11 days ago"
    )
    assert in_words(0, 2, 0, 0, "2026-05-17T08:00:00+00:00", True, ["saml"], 0) == (
        "wrote 2 other messages about saml, latest on 2026-05-17, today"
    )
    assert in_words(1, 0, 0, 0, "2026-06-01", True, [], -15) == "answered 1 question like this, latest on 2026-06-01"


def test_expert_cards_carry_the_reason_not_feature_names(store: Store, tmp_path: Path) -> None:
    load_demo(store, DemoConfig(messages=3000, people=80), truth_path=tmp_path / "truth.json")
    reindex(store, tmp_path)
    res = find_experts(
        store, "Is SSO included in the Professional edition?", store.viewer(None), k=5, path=tmp_path / "expertise"
    )
    if not res.experts:
        pytest.fail(f"no experts found: {res.reason}")
    for e in res.experts:
        assert e.reason and "_" not in e.reason  # words, never "vote_good"
        assert e.as_dict()["reason"] == e.reason
    top = res.experts[0]
    assert top.reason.startswith(("answered", "wrote", "no message"))
    # what their evidence shares with the question, in the asker's words, and how long ago
    about = [e for e in res.experts if " about " in e.reason and "about it" not in e.reason]
    assert about, [e.reason for e in res.experts]
    for e in about:
        named = e.reason.split(" about ", 1)[1].split(" (")[0].split(",")[0].strip()
        assert named in "is sso included in the professional edition?"
        assert any(named in ev.snippet.lower() for ev in e.evidence)
    assert all(" ago" in e.reason or ", today" in e.reason for e in res.experts if "latest on" in e.reason)
