"""The demo organisation: deterministic, realistic shape, planted ground truth, idempotent load."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from whoknows.demo import DemoConfig, DemoGenerator, load_demo
from whoknows.demo.catalog import DEPARTMENTS, SILO_DEPARTMENT, TOPICS
from whoknows.errors import InputError
from whoknows.model import Batch, MessageKind, Visibility
from whoknows.store import Store


def generate(messages: int = 3000, seed: int = 7, people: int | None = None) -> tuple[DemoGenerator, list[Batch]]:
    gen = DemoGenerator(DemoConfig(messages=messages, seed=seed, people=people))
    return gen, list(gen.batches(1000))


def test_same_seed_same_org_other_seed_other_org() -> None:
    _, a = generate(seed=3)
    _, b = generate(seed=3)
    _, c = generate(seed=4)
    text = lambda batches: [m.text for batch in batches for m in batch.messages]  # noqa: E731
    assert text(a) == text(b)
    assert text(a) != text(c)


def test_size_and_departments() -> None:
    gen, batches = generate(messages=5000)
    messages = [m for b in batches for m in b.messages]
    assert 5000 <= len(messages) < 5020
    assert len(gen.people) == 300
    depts = Counter(p.department for p in gen.people)
    assert set(depts) == {d.name for d in DEPARTMENTS}
    assert depts["Sales"] > depts["Legal"] >= 3
    for needed in ("Sales", "Sales Engineering", "Product", "Support", "Readiness", "Legal"):
        assert needed in depts
    kinds = Counter(s.kind.value for b in batches for s in b.spaces)
    assert {"channel", "dm", "mailbox", "qa_site", "ticket_queue", "crm"} <= set(kinds)
    assert Counter(m.kind for m in messages)[MessageKind.QUESTION] > 1000
    # Months of activity.
    times = sorted(m.created_at for m in messages)
    assert (times[-1] - times[0]).days > 150
    assert len(DemoGenerator(DemoConfig(messages=200_000)).people) == 2000


def test_planted_truth() -> None:
    gen, batches = generate(messages=8000)
    truth = gen.truth
    assert truth["silo_department"] == SILO_DEPARTMENT
    assert truth["single_expert_topics"] == ["fedramp"]
    assert len(truth["topics"]["fedramp"]["experts"]) == 1
    assert {t.key for t in TOPICS} == set(truth["topics"])
    by_ext = {p.external_id: p for p in gen.people}
    authors = {m.external_id: m.author_ref for b in batches for m in b.messages}
    threads = truth["threads"]
    assert len(threads) > 2000
    # Answers come from the topic's planted experts, and the best message was written by one of them.
    for t in threads.values():
        experts = {e for e, _ in truth["topics"][t["topic"]]["experts"]}
        assert set(t["answerers"]) <= experts
        if t["best_message"]:
            assert authors[t["best_message"]] in t["answerers"]
        assert authors[t["question_message"]] == t["asker"]
    # The silo talks to itself: every partner-programme thread is asked and answered inside the department.
    partner = [t for t in threads.values() if t["topic"] == "partner_program"]
    assert partner and all(by_ext[t["asker"]].department == SILO_DEPARTMENT for t in partner)
    assert all(by_ext[a].department == SILO_DEPARTMENT for t in partner for a in t["answerers"])
    # Most other questions cross department lines (a sales org asks product, legal, security ...).
    cross = [t for t in threads.values() if by_ext[t["asker"]].department != by_ext[t["answerers"][0]].department]
    assert len(cross) / len(threads) > 0.6


def test_private_spaces_have_members_who_post() -> None:
    _, batches = generate(messages=4000)
    spaces = {}
    for b in batches:
        for s in b.spaces:
            spaces[s.external_id] = s  # the last record of a space carries its final member list
    thread_space = {t.external_id: t.space_ref for b in batches for t in b.threads}
    for b in batches:
        for m in b.messages:
            space = spaces[thread_space[m.thread_ref]]
            if space.visibility == Visibility.PRIVATE:
                assert m.author_ref in space.member_refs, (space.name, m.author_ref)


def test_load_is_idempotent_and_writes_truth(store: Store, tmp_path: Path) -> None:
    truth = tmp_path / "truth.json"
    first = load_demo(store, DemoConfig(messages=1500, people=60), truth_path=truth, batch_size=500)
    assert first.messages >= 1500 and first.people == 60
    counts = store.counts()
    assert counts["messages"] == first.messages
    data = json.loads(truth.read_text())
    assert data["config"]["people"] == 60 and data["threads"]
    again = load_demo(store, DemoConfig(messages=1500, people=60), truth_path=truth, batch_size=500)
    assert again.stats.total("new") == 0
    assert store.counts()["messages"] == counts["messages"]


def test_other_seed_is_refused(store: Store, tmp_path: Path) -> None:
    load_demo(store, DemoConfig(messages=300, people=40), truth_path=tmp_path / "t.json")
    before = store.counts()
    with pytest.raises(InputError) as exc:
        load_demo(store, DemoConfig(messages=300, people=40, seed=8), truth_path=tmp_path / "t8.json")
    assert exc.value.code == "demo.other_seed"
    assert store.counts() == before
