"""The pre-aggregated profile postings give exactly the message postings' profile scores, under every
reader's permissions; evidence for profile matches is found in one pass for several people."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest

from whoknows.demo import DemoConfig, load_demo
from whoknows.expertise import ExpertiseModel, build_expertise
from whoknows.expertise.evidence import ANSWER
from whoknows.expertise.features import EVIDENCE_TERMS
from whoknows.index import Filters
from whoknows.store import Store

QUESTIONS = [
    "can we sign a BAA for HIPAA?",
    "how do I configure SSO with Okta for a customer",
    "pricing discount approval for a three year deal",
    "data residency in the EU",
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, ExpertiseModel]:
    from whoknows.store import open_store

    tmp = tmp_path_factory.mktemp("pp")
    store = open_store(tmp / "wk.db")
    load_demo(store, DemoConfig(messages=3000), truth_path=tmp / "truth.json")
    return store, build_expertise(store, tmp / "expertise")


def _readers(store: Store) -> list[int | None]:
    from sqlalchemy import select

    from whoknows.store import schema

    with store.read() as conn:  # people with the most private memberships, whose filters differ most
        rows = conn.execute(
            select(schema.space_members.c.person_id).group_by(schema.space_members.c.person_id).limit(4)
        ).scalars()
        return [None, *[int(r) for r in rows]]


def test_profile_postings_match_message_postings(demo: tuple[Store, ExpertiseModel]) -> None:
    store, model = demo
    ex = model.extractor
    for reader in _readers(store):
        spaces = frozenset(store.viewer(reader).spaces)
        for q in QUESTIONS:
            fast = ex.profile_scores(q, Filters(spaces=spaces))
            # The same question with a time cut after every message takes the message-postings path.
            slow = ex.profile_scores(q, Filters(spaces=spaces, until=float(model.table.time.max()) + 1))
            assert np.allclose(fast, slow), (reader, q)
            assert fast.max() > 0, q  # the comparison is not vacuous


def test_profile_postings_hold_only_readable_answers(demo: tuple[Store, ExpertiseModel]) -> None:
    store, model = demo
    ex = model.extractor
    t = model.table
    seg = model.index.segments[0]
    term = max(seg.term_index, key=lambda w: seg.df(seg.term_index[w]))
    readable = frozenset(store.viewer(None).spaces)
    got = ex._profile_tf([term], readable)[0]
    # Reference: sum the term's frequency over public answers, message by message.
    want = np.zeros(t.n_people)
    for _r, author, tf, _df in _answer_postings(model, term, readable):
        want[author] += tf
    assert want.sum() > 0
    assert np.allclose(got, want)


def test_best_messages_for_several_people_at_once(demo: tuple[Store, ExpertiseModel]) -> None:
    store, model = demo
    ex = model.extractor
    filters = Filters(spaces=frozenset(store.viewer(None).spaces))
    q = QUESTIONS[0]
    people = np.flatnonzero(ex.profile_scores(q, filters) > 0)[:5].tolist()
    assert people
    together = ex.best_messages(q, filters, people, 3)
    # Reference: every posting of every query term, message by message.
    t = model.table
    want: dict[int, dict[int, float]] = {p: {} for p in people}
    assert filters.spaces is not None
    for term in ex._rarest(list(ex.query_terms(q)), EVIDENCE_TERMS):
        for r, a, tf, df in _answer_postings(model, term, filters.spaces):
            if a in want:
                want[a][r] = want[a].get(r, 0.0) + math.log(1 + len(t) / df) * tf / (tf + 1.2)
    for person in people:
        best = sorted(want[person].values(), reverse=True)[:3]
        assert np.allclose([score for _, score in together[person]], best)
    for person in people:
        alone = ex.best_messages(q, filters, [person], 3)[person]
        assert together[person] == alone
        assert alone and all(int(model.table.author[r]) == person for r, _ in alone)
        assert all(math.isfinite(s) and s > 0 for _, s in alone)
        assert [s for _, s in alone] == sorted((s for _, s in alone), reverse=True)


def _answer_postings(model: ExpertiseModel, term: str, spaces: frozenset[int]) -> Iterator[tuple[int, int, int, int]]:
    """(table row, author, term frequency, the term's document frequency in that segment) of every answer with an
    author in ``spaces`` that uses ``term``, read posting by posting (the reference for the fast paths)."""
    t = model.table
    for s in model.index.segments:
        tid = s.term_index.get(term)
        if tid is None:
            continue
        lo, hi = int(s.indptr[tid]), int(s.indptr[tid + 1])
        for row, tf in zip(s.postings[lo:hi].tolist(), s.tfs[lo:hi].tolist(), strict=True):
            r = int(t.rows_of([int(s.doc_ids[row])])[0])
            if r >= 0 and int(t.role[r]) == ANSWER and int(s.spaces[row]) in spaces and t.author[r] >= 0:
                yield r, int(t.author[r]), int(tf), hi - lo


def test_rows_by_asker_match_a_scan(demo: tuple[Store, ExpertiseModel]) -> None:
    _store, model = demo
    t, ex = model.table, model.extractor
    askers = np.unique(t.asker)
    assert len(askers) > 5
    for a in [*askers.tolist(), -1, int(askers.max()) + 1]:
        np.testing.assert_array_equal(ex._asked_by(a), np.flatnonzero(t.asker == a))
