"""find_experts end to end: evidence, permissions, opt-outs, erasure, empty results, staleness."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from expertise_toy import SRC, T0, pid
from sqlalchemy import delete, update

from whoknows.expertise import (
    ExpertiseMissingError,
    ExpertiseModel,
    ExpertiseStaleError,
    find_experts,
    open_model,
)
from whoknows.ingest import ingest
from whoknows.model import Batch, Message
from whoknows.store import Store, schema


def test_experts_carry_evidence_with_reasons(toy: tuple[Store, ExpertiseModel]) -> None:
    store, model = toy
    res = find_experts(store, "How do I set up a kubernetes ingress with TLS?", store.viewer(None), model=model, k=3)
    assert res.reason is None and res.experts
    top = res.experts[0]
    assert top.name == "Alice" and top.rank == 1
    assert top.evidence and all(e.url and e.snippet for e in top.evidence)
    assert any("accepted answer" in e.why for e in top.evidence)
    assert any("+5 votes" in e.why for e in top.evidence)
    json.dumps(res.as_dict())  # serialises cleanly


def test_private_canary_only_for_members(toy: tuple[Store, ExpertiseModel]) -> None:
    store, model = toy
    q = "zebracanary protocol documentation"
    outsider = find_experts(store, q, store.viewer(pid(store, "frank")), model=model)
    assert outsider.experts == [] and outsider.reason
    assert "zebracanary" not in json.dumps(outsider.as_dict()).replace(q, "")
    member = find_experts(store, q, store.viewer(pid(store, "gina")), model=model)
    assert [e.name for e in member.experts] == ["Dave"]
    assert "zebracanary" in member.experts[0].evidence[0].snippet
    anywhere = find_experts(store, "kubernetes ingress", store.viewer(pid(store, "frank")), model=model)
    spaces = {e.space_id for x in anywhere.experts for e in x.evidence}
    assert spaces <= store.viewer(pid(store, "frank")).spaces


def test_opted_out_never_appear(toy: tuple[Store, ExpertiseModel]) -> None:
    store, model = toy
    res = find_experts(
        store, "kubernetes pods restarting liveness probe secrets etcd", store.viewer(None), model=model, k=20
    )
    assert "Olga" not in [e.name for e in res.experts]
    with store.write() as conn:  # opting out after the build takes effect at once
        conn.execute(update(schema.people).where(schema.people.c.id == pid(store, "alice")).values(opted_out=True))
    res = find_experts(store, "kubernetes pods restarting liveness probe", store.viewer(None), model=model, k=20)
    assert "Alice" not in [e.name for e in res.experts]


def test_erased_person_disappears_immediately(toy: tuple[Store, ExpertiseModel]) -> None:
    store, model = toy
    alice = pid(store, "alice")
    with store.write() as conn:
        conn.execute(delete(schema.person_aliases).where(schema.person_aliases.c.person_id == alice))
        conn.execute(delete(schema.messages).where(schema.messages.c.author_id == alice))
        conn.execute(delete(schema.people).where(schema.people.c.id == alice))
    res = find_experts(store, "kubernetes ingress TLS", store.viewer(None), model=model)
    assert "Alice" not in [e.name for e in res.experts]
    assert all(e.evidence for e in res.experts)


def test_no_evidence_gives_empty_result_with_reason(toy: tuple[Store, ExpertiseModel]) -> None:
    store, model = toy
    res = find_experts(store, "quantum chromodynamics lattice gauge", store.viewer(None), model=model)
    assert res.experts == [] and res.reason and "no one" in res.reason
    assert find_experts(store, "   ", store.viewer(None), model=model).reason == "the question is empty"
    assert (
        find_experts(store, "the and of", store.viewer(None), model=model).reason
        == "the question has no searchable words"
    )


def test_single_message_people_do_not_dominate(toy: tuple[Store, ExpertiseModel]) -> None:
    store, model = toy
    res = find_experts(store, "kubernetes ingress tls", store.viewer(None), model=model)
    order = [e.name for e in res.experts]
    assert order.index("Alice") < order.index("Eve") if "Eve" in order else order[0] == "Alice"


def test_missing_and_stale_models(store: Store, tmp_path: Path, toy: tuple[Store, ExpertiseModel]) -> None:
    _, model = toy
    with pytest.raises(ExpertiseMissingError):
        open_model(store, tmp_path / "nothing-here")
    batch = Batch(messages=[Message(SRC, "late", "t1", "bob", T0, "late kubernetes reply")])
    ingest(store, "toy", SRC, [batch])
    with pytest.raises(ExpertiseStaleError) as err:
        open_model(store, model.path, on_stale="error")
    assert err.value.code == "expertise.stale"
    fresh, stale = open_model(store, model.path, on_stale="rebuild")
    assert not stale and not fresh.is_stale(fresh.fingerprint)


def test_merged_away_person_disappears_and_the_survivor_inherits(
    toy: tuple[Store, ExpertiseModel], tmp_path: Path
) -> None:
    from whoknows.expertise import build_expertise
    from whoknows.identity import merge

    store, model = toy
    merge(store, "bob@toy.example", "alice@toy.example")
    stale = find_experts(
        store, "kubernetes ingress TLS", store.viewer(None), model=model
    )  # the model still knows alice's id
    assert "Alice" not in [e.name for e in stale.experts]
    rebuilt = build_expertise(store, tmp_path / "rebuilt")
    res = find_experts(store, "kubernetes ingress TLS", store.viewer(None), model=rebuilt)
    assert "Alice" not in [e.name for e in res.experts]
    assert "Bob" in [e.name for e in res.experts]  # alice's kubernetes answers now count for bob


def test_a_brush_off_is_never_shown_as_why_someone_knows(store: Store, tmp_path: Path) -> None:
    """In chat, "No idea, sorry. Maybe try #security?" is no expertise: its author is not proposed on its strength,
    and the one who answered is shown with their answer."""
    from expertise_toy import Toy

    from whoknows.expertise import build_expertise
    from whoknows.model import Alias, AliasKind, Person, Space, SpaceKind

    toy = Toy()
    for name in ("hank", "gina"):
        toy.person(name)
    alias = Alias(AliasKind.EMAIL, "carol@toy.example")
    toy.batch.people.append(Person(SRC, "carol", "Carol", [alias], "Presales", "EMEA", "Solutions Engineer"))
    toy.batch.spaces.append(Space(SRC, "chan", SpaceKind.CHANNEL, "#help"))
    for i in range(4):
        toy.thread(
            "chan",
            "hank",
            f"How do we rotate the SAML signing certificate for tenant {i}?",
            [
                ("gina", "No idea, sorry. Maybe try #security-questions?", 0, False),
                ("carol", "Rotate the SAML signing certificate in the IdP console, then upload metadata.", 0, False),
            ],
        )
    ingest(store, "toy", SRC, [toy.batch])
    model = build_expertise(store, tmp_path / "expertise")
    res = find_experts(store, "rotate the SAML signing certificate", store.viewer(None), model=model, k=5)
    assert [e.name for e in res.experts] == ["Carol"]  # Gina's replies were all brush-offs
    carol = res.experts[0]
    assert carol.position() == "Solutions Engineer · Presales · EMEA"
    assert carol.as_dict()["title"] == "Solutions Engineer" and carol.as_dict()["team"] == "EMEA"
    toy.thread("chan", "hank", "Where do SAML signing certificates expire?", [("gina", "In the IdP console", 0, False)])
    ingest(store, "toy", SRC, [toy.batch])
    model = build_expertise(store, tmp_path / "expertise")
    res = find_experts(store, "rotate the SAML signing certificate", store.viewer(None), model=model, k=5)
    gina = next(e for e in res.experts if e.name == "Gina")
    assert gina.evidence and all("No idea" not in ev.snippet for ev in gina.evidence)
