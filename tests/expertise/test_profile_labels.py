"""Profile topics read as the person's messages write them: a shared phrase, else the written word, never a stem."""

from __future__ import annotations

from whoknows.expertise import ExpertiseModel
from whoknows.expertise.profile import profile, readable_label
from whoknows.index.analyzer import analyze
from whoknows.store import Store

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
