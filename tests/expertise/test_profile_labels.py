"""Profile topics read as the person's messages write them: a shared phrase, else the written word, never a stem."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from whoknows.expertise import ExpertiseModel, build_expertise
from whoknows.expertise.profile import profile, readable_label
from whoknows.index.analyzer import analyze
from whoknows.ingest import ingest
from whoknows.model import Batch, Message, Person, Space, SpaceKind, Thread
from whoknows.store import Store, open_store

GLASS = [
    "Use the break glass account only when SSO is down.",
    "The break glass procedure needs two approvers.",
    "Who holds the break glass credentials this week?",
    "Glass walls in the new office, nothing to do with access.",
]


def test_a_phrase_most_messages_share_labels_the_term() -> None:
    assert readable_label("glass", GLASS) == "break glass"
    assert readable_label("break", GLASS[:3]) == "break glass"


def test_the_written_form_when_no_phrase_is_shared() -> None:
    texts = ["We are FedRAMP Moderate now.", "Is the agency asking about FedRAMP?", "FedRAMP: see the wiki."]
    assert readable_label(analyze("FedRAMP")[0], texts) == "FedRAMP"
    once = ["The boundaries of the tenant.", "Tenant boundary rules.", "A boundary we keep."]
    assert readable_label(analyze("boundary")[0], once) == "boundary"  # no phrase in half of them: the word
    assert readable_label("zzz", ["nothing here"]) == "zzz"


def test_profile_topics_carry_readable_labels(toy: tuple[Store, ExpertiseModel]) -> None:
    store, model = toy
    bob = profile(store, "bob@toy.example", store.viewer(None), model=model)
    labels = {t.term: t.label for t in bob.topics}
    assert labels.get("cluster") == "kubernetes cluster", labels
    carol = profile(store, "carol@toy.example", store.viewer(None), model=model)
    assert carol.topics and all(t.label for t in carol.topics)
    for t in carol.topics:  # each label writes its term: one of its words is the term
        assert t.term in {a for w in t.label.split() for a in analyze(w)}, (t.term, t.label)
    shown = [t.label.lower() for t in carol.topics]
    assert len(shown) == len(set(shown))  # two terms that read as one phrase are one topic
    assert carol.as_dict()["topics"][0]["label"] == carol.topics[0].label


def test_a_colleagues_name_is_no_profile_topic(tmp_path: Path) -> None:
    store = open_store(tmp_path / "names.db")
    src = "test:names"
    t0 = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
    # Vincenzo is in the directory (a workspace's user list) but writes nothing himself: his name is known to every
    # reader, so leaving it out of labels tells nobody anything.
    people = [
        Person(src, "u1", "Ann Lee"),
        Person(src, "u2", "Vincenzo Rossi", listed=True),
        Person(src, "u3", "Bo Chen"),
    ]
    threads, messages = [], []
    for i in range(6):
        threads.append(Thread(src, f"t{i}", "s1", created_at=t0))
        at = t0 + timedelta(hours=i)
        messages.append(Message(src, f"q{i}", f"t{i}", "u3", at, f"How do I fix raco setup error {i}?"))
        messages.append(Message(src, f"a{i}", f"t{i}", "u1", at + timedelta(minutes=5),
                                "Vincenzo says: run raco setup with the clean flag, Vincenzo wrote the docs.",
                                reply_to_ref=f"q{i}"))  # fmt: skip
    batch = Batch(people=people, spaces=[Space(src, "s1", SpaceKind.CHANNEL, "#help")], threads=threads,
                  messages=messages)  # fmt: skip
    ingest(store, "test", src, [batch])
    model = build_expertise(store, tmp_path / "expertise")
    ann = profile(store, "Ann Lee", store.viewer(None), model=model)
    labels = [t.label for t in ann.topics]
    assert labels and "raco setup" in labels, labels
    assert not any("vincenzo" in label.lower() for label in labels), labels
