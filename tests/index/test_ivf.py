"""IVF lists on large segments: approximate vector search that stays close to exact, never leaves the permission
filter, probes further when the filter leaves too little, survives deletions and detects damage."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from whoknows.index import Doc, Filters, IndexCorruptError, SearchIndex
from whoknows.index import ivf as ivf_files
from whoknows.index.embedders import train_static
from whoknows.index.vector import VectorRetriever

TOPICS = [
    "vpn password reset client crash",
    "pricing discount annual enterprise plan",
    "hipaa baa contract healthcare customer",
    "sso okta saml login integration",
    "data residency eu gdpr storage region",
    "invoice billing payment terms net30",
    "api rate limit webhook retry",
    "onboarding training readiness certification",
]


def _docs(n: int, seed: int = 1) -> list[Doc]:
    rng = random.Random(seed)
    vocab = " ".join(TOPICS).split()
    docs = []
    for i in range(n):
        words = rng.choice(TOPICS).split()
        text = " ".join(rng.sample(words, 3) + rng.sample(vocab, 3))
        kind = "rare" if i % 100 == 0 else "answer"
        docs.append(Doc(i + 1, text, space_id=1 + i % 7, kind=kind, time=float(i)))
    return docs


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    docs = _docs(4000)
    emb = train_static([d.text for d in docs], dim=16)
    old = ivf_files.IVF_MIN_ROWS
    ivf_files.IVF_MIN_ROWS = 1000
    try:
        return SearchIndex.build(tmp_path_factory.mktemp("ivf") / "ix", docs, emb)
    finally:
        ivf_files.IVF_MIN_ROWS = old


def test_large_segments_get_lists_on_disk(built: SearchIndex) -> None:
    seg = built.segments[0]
    assert seg.ivf is not None
    assert seg.ivf.n_lists == ivf_files.n_lists_for(len(seg))
    assert sorted(np.asarray(seg.ivf.order).tolist()) == list(range(len(seg)))  # every row in one list
    assert all((seg.path / f"{name}.npy").exists() for name in ivf_files.FILES)


def test_ivf_stays_close_to_exact(built: SearchIndex) -> None:
    assert built.vector is not None
    exact = VectorRetriever(built, built.vector.embedder, exact=True)
    recalls = []
    for topic in TOPICS:
        want = {h.doc_id for h in exact.rank(topic, 10)}
        got = {h.doc_id for h in built.vector.rank(topic, 10)}
        recalls.append(len(want & got) / len(want))
    assert np.mean(recalls) >= 0.8


def test_ivf_results_respect_filters_and_probe_further(built: SearchIndex) -> None:
    assert built.vector is not None
    docs = {d.id: d for d in _docs(4000)}
    spaces = Filters.of(spaces=[1, 2, 3, 4, 5, 6])  # most of the segment: the IVF path
    for topic in TOPICS:
        hits = built.vector.rank(topic, 20, spaces)
        assert len(hits) == 20 and all(docs[h.doc_id].space_id != 7 for h in hits)
    # 40 documents of kind "rare" spread over all lists: the first probes hold too few, more lists are probed.
    rare = built.vector.rank(TOPICS[0], 40, Filters.of(kinds={"rare"}))
    assert len(rare) == 40 and {docs[h.doc_id].kind for h in rare} == {"rare"}


def test_deleting_keeps_lists_and_drops_the_documents(tmp_path: Path) -> None:
    docs = _docs(3000, seed=2)
    emb = train_static([d.text for d in docs], dim=16)
    old = ivf_files.IVF_MIN_ROWS
    ivf_files.IVF_MIN_ROWS = 1000
    try:
        ix = SearchIndex.build(tmp_path / "ix", docs, emb)
        before = ix.segments[0].ivf
        assert before is not None
        gone = [h.doc_id for h in ix.search(TOPICS[2], 5, mode="vector").hits]
        ix.delete(gone)
    finally:
        ivf_files.IVF_MIN_ROWS = old
    after = ix.segments[0].ivf
    assert after is not None and np.array_equal(after.centroids, before.centroids)  # re-assigned, not retrained
    assert len(after.order) == len(docs) - len(gone)
    again = {h.doc_id for h in ix.search(TOPICS[2], 50, mode="vector").hits}
    assert again and not again & set(gone)
    reopened = SearchIndex.open(tmp_path / "ix")
    assert not {h.doc_id for h in reopened.search(TOPICS[2], 50, mode="vector").hits} & set(gone)


def test_damaged_lists_are_reported(built: SearchIndex, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(built.path, copy)
    seg = copy / built.segments[0].name
    np.save(seg / "ivf_order.npy", np.arange(10, dtype=np.int64))
    with pytest.raises(IndexCorruptError, match="IVF"):
        SearchIndex.open(copy)
