"""Each ranker on the toy organisation, with orderings checked by hand."""

from __future__ import annotations

from expertise_toy import pid

from whoknows.expertise import ExpertiseModel
from whoknows.expertise.rankers import (
    GraphRanker,
    MostActiveRanker,
    ProfileRanker,
    RandomRanker,
    VotingRanker,
)
from whoknows.index import Filters, Ranker
from whoknows.store import Store

Q = "kubernetes ingress TLS configuration"


def names(store: Store, ranker: Ranker, query: str = Q, k: int = 10) -> list[str]:
    public = Filters.of(spaces=store.viewer(None).spaces)
    return [store.get_person(s.doc_id).name.lower() for s in ranker.rank(query, k, public)]


def test_most_active_ranks_by_answers_whatever_the_question(toy: tuple[Store, ExpertiseModel]) -> None:
    store, model = toy
    got = names(store, MostActiveRanker(model.context))
    assert got[:3] == ["carol", "alice", "bob"]
    assert "olga" not in got  # opted out


def test_random_is_deterministic_and_covers_answerers(toy: tuple[Store, ExpertiseModel]) -> None:
    store, model = toy
    r = RandomRanker(model.context)
    assert names(store, r) == names(store, r)
    assert set(names(store, r)) == {"alice", "bob", "carol", "eve"}  # dave answered only in a private space


def test_profile_model_1(toy: tuple[Store, ExpertiseModel]) -> None:
    store, model = toy
    got = names(store, ProfileRanker(model.context))
    assert "alice" in got[:2] and "carol" not in got  # bob's three short replies carry the questions' words


def test_voting_model_2(toy: tuple[Store, ExpertiseModel]) -> None:
    store, model = toy
    for method in ("combsum", "expcombmnz"):
        got = names(store, VotingRanker(model.context, method))
        assert got[0] == "alice", method
        assert "carol" not in got and "olga" not in got


def test_graph_ranks_people_who_help_many_askers(toy: tuple[Store, ExpertiseModel]) -> None:
    store, model = toy
    got = names(store, GraphRanker(model.context))
    assert set(got[:2]) == {"alice", "carol"}  # both answered several askers; bob and eve fewer


def test_learned_default_puts_the_expert_first(toy: tuple[Store, ExpertiseModel]) -> None:
    store, model = toy
    got = names(store, model.ranker)
    assert got[0] == "alice"
    assert got.index("alice") < got.index("eve")  # one stuffed message does not beat five accepted answers
    assert pid(store, "alice") > 0
