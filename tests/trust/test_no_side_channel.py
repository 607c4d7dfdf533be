"""Nothing a reader can observe depends on text they may not read (issue 16, finding 3).

The attack: a member outside a channel asks the same word 40 times and reads the server-reported time (or the
scores) to learn whether the word occurs in someone else's DMs. The property tested here is non-interference:
for a reader, an index holding private documents must answer exactly (ids *and* scores) as an index built from
the readable documents alone, and a person's answers must not change when private spaces are removed.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from leakorg import SRC, T0, TOPICS, build_org, qa_thread
from sqlalchemy import delete, select

from whoknows.access import Viewer
from whoknows.api.accounts import add_account, issue_token
from whoknows.api.app import create_app
from whoknows.derive import reindex
from whoknows.index import Doc, Filters, SearchIndex
from whoknows.index.embedders import train_static
from whoknows.ingest import ingest
from whoknows.memory.ask import MemorySearch
from whoknows.memory.memory_index import build_memory_index, index_path
from whoknows.memory.rebuild import rebuild_memory
from whoknows.model import Batch, Visibility
from whoknows.store import schema

PUBLIC, OTHER_PUBLIC, PRIVATE = 1, 2, 3
PRIVATE_ONLY = "zqfalconx"


def _docs() -> list[Doc]:
    """Public documents about contracts and pricing; a private space that talks about contract renewals a lot
    (shifting every collection statistic of "contract" and "renewal") and about a code name."""
    topics = ["contract renewal terms", "pricing discount tiers", "security review questionnaire", "data residency"]
    docs = [
        Doc(
            i,
            f"{topics[i % 4]} for customer {i} with notes on {topics[(i + 1) % 4]}",
            PUBLIC if i % 3 else OTHER_PUBLIC,
        )
        for i in range(1, 121)
    ]
    docs += [
        Doc(1000 + i, f"contract renewal renewal {PRIVATE_ONLY} acquisition contract draft {i}", PRIVATE)
        for i in range(60)
    ]
    return docs


QUERIES = [
    "contract renewal",
    "renewal pricing",
    f"{PRIVATE_ONLY} contract",
    f"{PRIVATE_ONLY}",
    "security questionnaire for a customer",
    "data residency contract renewal discount",
]


@pytest.mark.parametrize("mode", ["lexical", "hybrid"])
def test_reader_gets_exactly_what_an_index_of_readable_documents_gives(tmp_path: Path, mode: str) -> None:
    docs = _docs()
    readable = [d for d in docs if d.space_id != PRIVATE]
    embedder = train_static([d.text for d in readable], dim=16) if mode == "hybrid" else None
    full = SearchIndex.build(tmp_path / "full", docs, embedder)
    alone = SearchIndex.build(tmp_path / "alone", readable, embedder)
    reader = Filters.of(spaces={PUBLIC, OTHER_PUBLIC})
    for q in QUERIES:
        got = full.search(q, k=20, filters=reader, mode=mode)  # type: ignore[arg-type]
        want = alone.search(q, k=20, filters=reader, mode=mode)  # type: ignore[arg-type]
        assert [(h.doc_id, round(h.score, 9)) for h in got.hits] == [(h.doc_id, round(h.score, 9)) for h in want.hits]
        assert got.reason == want.reason
    # The private-only word finds nothing, exactly like a word that exists nowhere.
    assert full.search(PRIVATE_ONLY, k=5, filters=reader).hits == full.search("zqnowherex", k=5, filters=reader).hits
    # A member of the private space does find it.
    member = Filters.of(spaces={PUBLIC, OTHER_PUBLIC, PRIVATE})
    assert {h.doc_id for h in full.search(PRIVATE_ONLY, k=5, filters=member).hits} <= {1000 + i for i in range(60)}


def test_answers_do_not_change_when_private_spaces_are_removed(tmp_path: Path) -> None:
    """A person's answers (ids, scores, confidence, everything) are the same with or without the private spaces
    they are not in: the private words change no statistic they can observe."""
    org = build_org(tmp_path)
    ivy = org.ids["ivy"]
    questions = [*TOPICS.values(), "renewal of the ingress certificate", "refund the chargeback"]
    before = _answers(org.store, org.data_dir, ivy, questions)
    private = [s.ext for s in org.spaces.values() if s.visibility == Visibility.PRIVATE]
    with org.store.write() as conn:
        sp = schema.spaces
        ids = list(conn.execute(select(sp.c.id).where(sp.c.external_id.in_(private))).scalars())
        assert ids
        conn.execute(delete(sp).where(sp.c.id.in_(ids)))
    reindex(org.store, org.data_dir)
    after = _answers(org.store, org.data_dir, ivy, questions)
    assert after == before
    org.close()


def _answers(store: object, data_dir: Path, person: int, questions: list[str]) -> list[dict[str, object]]:
    from whoknows.store import Store

    assert isinstance(store, Store)
    search = MemorySearch(store, index_path(data_dir))
    viewer = store.viewer(person)
    return [search.ask(q, viewer, k=10).as_dict() for q in questions]


def test_the_embedder_learns_no_word_of_a_private_space(tmp_path: Path) -> None:
    """Vectors are learned from public text only: a code name repeated in a private channel gets no vector, so a
    question with it finds by meaning nothing that a question with an unknown word would not."""
    org = build_org(tmp_path)
    try:
        batch = Batch()
        topics = ["renewal contract", "pricing tiers", "security review", "data residency", "ingress certificate"]
        for i in range(40):
            at = T0 + timedelta(days=i)
            for tid, space, text in (
                (f"pub{i}", "general", f"how do we handle {topics[i % 5]} for customer {i}?"),
                (f"prv{i}", "room", f"{PRIVATE_ONLY} {topics[i % 5]} acquisition plan {i}?"),
            ):
                thread, msgs = qa_thread(tid, space, "ann", "hal", text, f"answer about {topics[i % 5]} {i}", at)
                batch.threads.append(thread)
                batch.messages.extend(msgs)
        ingest(org.store, "test", SRC, [batch])
        rebuild_memory(org.store)
        index = build_memory_index(org.store, tmp_path / "vectors", vectors=True)
        assert index.vector is not None
        vocab = set(index.vector.embedder.vocab)
        assert "renew" in vocab or "renewal" in vocab
        assert not {w for w in vocab if PRIVATE_ONLY in w}
        ivy = org.store.viewer(org.ids["ivy"])
        reader = Filters(spaces=ivy.spaces)
        secret = index.search(f"{PRIVATE_ONLY} plan", k=10, filters=reader, mode="vector")
        unknown = index.search("zqnowherex plan", k=10, filters=reader, mode="vector")
        assert secret.hits == unknown.hits
    finally:
        org.close()


def test_api_reports_timings_to_admins_only(tmp_path: Path) -> None:
    org = build_org(tmp_path)
    try:
        tokens = {}
        for ext, role in (("ivy", "member"), ("ada", "admin")):
            account = add_account(org.store, org.email(ext), role=role, password=None)
            tokens[ext] = issue_token(org.store, account["account_id"], kind="api", name="t").token
        with TestClient(create_app(org.settings, store=org.store)) as client:
            for ext, timed in (("ivy", False), ("ada", True)):
                r = client.post(
                    "/api/v1/ask",
                    json={"question": TOPICS["room"]},
                    headers={"Authorization": f"Bearer {tokens[ext]}"},
                )
                assert r.status_code == 200, r.text
                assert (r.json()["memory"]["took_ms"] is not None) is timed, (ext, r.json()["memory"])
    finally:
        org.close()


def test_system_viewer_reads_everything_and_nobody_else_can_be_built() -> None:
    system = Viewer.system()
    assert system.is_system and system.can_read(12345) and system.sees_timings
    with pytest.raises(TypeError):
        Viewer(1, "member", frozenset({1}))


def test_every_core_read_takes_a_viewer() -> None:
    """The permission check is a structure: each read on behalf of a person takes a Viewer, and none accepts a
    set of space ids (or a bare person id) that a caller could widen."""
    import inspect
    import typing

    from whoknows.analytics import build_report
    from whoknows.expertise import find_experts, profile
    from whoknows.memory.ask import ask
    from whoknows.routing import inbox, my_questions
    from whoknows.routing.assign import visible_draft
    from whoknows.store import Store

    reads = [MemorySearch.ask, ask, find_experts, profile, inbox, my_questions, visible_draft, build_report]
    reads += [Store.find_person]
    for fn in reads:
        hints = typing.get_type_hints(fn)
        params = inspect.signature(fn).parameters
        assert any(hints.get(p) is Viewer for p in params), fn.__qualname__
        assert not {"readable", "asker_id", "viewer_id", "spaces"} & set(params), fn.__qualname__


def test_experts_for_a_private_word_are_those_for_an_unknown_word(tmp_path: Path) -> None:
    """Expert finding as an outsider: a question carrying a word from a private space gets exactly the answer a
    question carrying a word that exists nowhere gets (same people, scores, evidence, reason)."""
    from whoknows.expertise import build_expertise, find_experts

    org = build_org(tmp_path)
    try:
        model = build_expertise(org.store, tmp_path / "experts-model")
        ivy = org.store.viewer(org.ids["ivy"])
        checked = 0
        for c in org.canaries:
            if org.may_see("ivy", c) or c.role == "person":
                continue
            secret = find_experts(org.store, f"{c.topic} {c.token}", ivy, model=model).as_dict()
            unknown = find_experts(org.store, f"{c.topic} zqnowherex", ivy, model=model).as_dict()
            for result in (secret, unknown):
                result.pop("question")
            assert secret == unknown or str(secret).replace(c.token, "zqnowherex") == str(unknown), c
            checked += 1
        assert checked >= 5
    finally:
        org.close()
