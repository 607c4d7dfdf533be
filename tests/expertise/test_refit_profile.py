"""Learning from outcomes, and profiles."""

from __future__ import annotations

import json

import pytest
from expertise_toy import pid

from whoknows.errors import NotFoundError
from whoknows.expertise import ExpertiseModel, Outcome, profile, refit
from whoknows.store import Store


def test_refit_moves_weights_towards_the_outcomes(toy: tuple[Store, ExpertiseModel]) -> None:
    store, model = toy
    before = model.model.weights()
    carol = pid(store, "carol")  # the busiest answerer, but not a kubernetes writer
    outcomes = [
        Outcome(f"kubernetes question number {i}", carol, "accepted", asker_id=pid(store, "hank")) for i in range(20)
    ]
    after = refit(store, model, outcomes).weights()
    assert after["answers"] > before["answers"]
    assert ExpertiseModel.open(model.path).model.weights() == after  # saved
    alice = pid(store, "alice")
    declined = [Outcome("kubernetes ingress tls", alice, "declined") for _ in range(20)]
    again = refit(store, model, declined).weights()
    assert (
        again["vote_sum"] + again["vote_max"] + again["profile"]
        < after["vote_sum"] + after["vote_max"] + after["profile"]
    )


def test_profile_has_topics_with_evidence(toy: tuple[Store, ExpertiseModel]) -> None:
    store, model = toy
    p = profile(store, "alice@toy.example", store.viewer(None), model=model)
    terms = [t.term for t in p.topics]
    assert "kubernet" in terms[:3]
    assert p.topics[0].evidence and p.topics[0].evidence[0].url
    assert p.stats["answers"] == 5 and p.stats["accepted_or_thanked"] == 5
    json.dumps(p.as_dict())


def test_profile_respects_viewer_and_opt_out(toy: tuple[Store, ExpertiseModel]) -> None:
    store, model = toy
    # Dave wrote only in a private space and no directory lists him: to anyone outside it he does not exist.
    with pytest.raises(NotFoundError) as hidden:
        profile(store, "dave@toy.example", store.viewer(None), model=model)
    with pytest.raises(NotFoundError) as unknown:
        profile(store, "nobody@toy.example", store.viewer(None), model=model)
    assert hidden.value.code == unknown.value.code == "person.not_found"
    assert hidden.value.message == unknown.value.message.replace("nobody@", "dave@")
    own = profile(store, "dave@toy.example", store.viewer(pid(store, "dave")), model=model)
    assert "zebracanari" in [t.term for t in own.topics] or "zebracanary" in [t.term for t in own.topics]
    olga = profile(store, "olga@toy.example", store.viewer(None), model=model)
    assert olga.topics == [] and olga.reason and "opted out" in olga.reason
