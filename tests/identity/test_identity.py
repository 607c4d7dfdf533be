"""Identity resolution: rules at import time, explicit merges and mapping files, all explainable and reversible."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from whoknows.access import Viewer
from whoknows.errors import InputError, NotFoundError
from whoknows.identity import apply_mapping, explain, merge, suggest, unmerge
from whoknows.ingest import ingest
from whoknows.model import Alias, AliasKind, Batch, Message, MessageKind, Person, Space, SpaceKind, Thread, Visibility
from whoknows.store import Store, schema

T0 = datetime(2026, 2, 3, 10, 0, tzinfo=UTC)


def slack_batch() -> Batch:
    src = "slack:T1"
    return Batch(
        people=[
            Person(
                src,
                "U1",
                "Ann Lee",
                aliases=[
                    Alias(AliasKind.SLACK, "T1:U1"),
                    Alias(AliasKind.EMAIL, "ann@acme.example"),
                    Alias(AliasKind.NAME, "Ann Lee"),
                ],
            ),
            Person(
                src, "U2", "Raj Patel", aliases=[Alias(AliasKind.SLACK, "T1:U2"), Alias(AliasKind.NAME, "Raj Patel")]
            ),
        ],
        spaces=[Space(src, "C1", SpaceKind.CHANNEL, "#deals", Visibility.PRIVATE, member_refs=["U1", "U2"])],
        threads=[Thread(src, "C1/1", "C1", None, T0)],
        messages=[
            Message(src, "C1/1", "C1/1", "U2", T0, "Who knows our DPA?", kind=MessageKind.QUESTION),
            Message(src, "C1/2", "C1/1", "U1", T0, "Send the standard DPA.", reply_to_ref="C1/1"),
        ],
    )


def mail_batch() -> Batch:
    src = "email:legal"
    return Batch(
        people=[
            Person(src, "ann@acme.example", "Ann Lee", aliases=[Alias(AliasKind.EMAIL, "ANN@acme.example")]),
            Person(
                src,
                "raj.p@acme.example",
                "Raj Patel",
                aliases=[Alias(AliasKind.EMAIL, "raj.p@acme.example"), Alias(AliasKind.NAME, "Raj Patel")],
            ),
        ],
        spaces=[
            Space(
                src,
                "box",
                SpaceKind.MAILBOX,
                "legal@",
                Visibility.PRIVATE,
                member_refs=["ann@acme.example", "raj.p@acme.example"],
            )
        ],
        threads=[Thread(src, "<t1>", "box", "DPA", T0)],
        messages=[
            Message(src, "<m1>", "<t1>", "raj.p@acme.example", T0, "Where is the DPA?", kind=MessageKind.QUESTION),
            Message(src, "<m2>", "<t1>", "ann@acme.example", T0, "Attached.", reply_to_ref="<m1>"),
        ],
    )


def authors(store: Store) -> dict[str, int]:
    with store.read() as conn:
        return {
            ext: pid for ext, pid in conn.execute(select(schema.messages.c.external_id, schema.messages.c.author_id))
        }


def test_email_match_merges_with_a_recorded_rule(store: Store) -> None:
    ingest(store, "slack", "slack:T1", [slack_batch()])
    ingest(store, "email", "email:legal", [mail_batch()])
    assert store.counts()["people"] == 3  # Ann merged by e-mail; the two Raj Patels are not merged by name
    ann = store.find_person("ann@acme.example", Viewer.system())
    assert authors(store)["<m2>"] == ann.id == authors(store)["C1/2"]
    info = explain(store, "ann@acme.example")
    rules = {i["identity"]: i["rule"] for i in info["identities"]}
    assert rules["slack:T1#U1"] == "new person"
    assert rules["email:legal#ann@acme.example"] == "same email ann@acme.example"
    assert info["messages_by_source"] == {"slack:T1": 1, "email:legal": 1}
    assert [m["rule"] for m in info["merges"]] == ["same email ann@acme.example"]
    # Re-importing resolves through the stored identity: no new merge, no new person.
    ingest(store, "email", "email:legal", [mail_batch()])
    assert len(explain(store, "ann@acme.example")["merges"]) == 1
    assert store.counts()["people"] == 3


def test_undo_an_import_time_merge(store: Store) -> None:
    ingest(store, "slack", "slack:T1", [slack_batch()])
    ingest(store, "email", "email:legal", [mail_batch()])
    merge_id = explain(store, "ann@acme.example")["merges"][0]["id"]
    new_id = unmerge(store, merge_id)
    assert store.counts()["people"] == 4
    ann = store.find_person("ann@acme.example", Viewer.system())
    assert ann.id != new_id
    assert authors(store)["<m2>"] == new_id and authors(store)["C1/2"] == ann.id
    legal_box = next(s["id"] for s in store.status().spaces if s["name"] == "legal@")
    assert legal_box in store.viewer(new_id).spaces
    assert legal_box not in store.viewer(ann.id).spaces
    with pytest.raises(InputError):
        unmerge(store, merge_id)
    # The split identity keeps resolving to its own person on re-import.
    ingest(store, "email", "email:legal", [mail_batch()])
    assert store.counts()["people"] == 4


def test_manual_merge_and_unmerge_restore_everything(store: Store) -> None:
    ingest(store, "slack", "slack:T1", [slack_batch()])
    ingest(store, "email", "email:legal", [mail_batch()])
    with pytest.raises(NotFoundError) as exc:
        store.find_person("Raj Patel", Viewer.system())
    assert exc.value.code == "person.ambiguous"
    raj_mail = store.find_person("raj.p@acme.example", Viewer.system())
    with store.read() as conn:
        raj_slack = conn.execute(
            select(schema.person_aliases.c.person_id).where(schema.person_aliases.c.value == "T1:U2")
        ).scalar_one()
    before_authors = authors(store)
    before_spaces = (store.viewer(raj_slack).spaces, store.viewer(raj_mail.id).spaces)
    merge_id = merge(store, f"#{raj_slack}", "raj.p@acme.example")
    assert store.counts()["people"] == 2
    assert authors(store)["<m1>"] == raj_slack
    assert store.find_person("raj.p@acme.example", Viewer.system()).id == raj_slack
    back = unmerge(store, merge_id)
    assert back == raj_mail.id
    assert authors(store) == before_authors
    assert (store.viewer(raj_slack).spaces, store.viewer(back).spaces) == before_spaces
    with pytest.raises(InputError):
        merge(store, "raj.p@acme.example", f"#{raj_mail.id}")


def test_mapping_file(store: Store, tmp_path: Path) -> None:
    ingest(store, "slack", "slack:T1", [slack_batch()])
    ingest(store, "email", "email:legal", [mail_batch()])
    with store.read() as conn:
        raj_slack = conn.execute(
            select(schema.person_aliases.c.person_id).where(schema.person_aliases.c.value == "T1:U2")
        ).scalar_one()
    mapping = tmp_path / "identities.csv"
    mapping.write_text(
        "person,alias\n"
        "slack:T1:U2,email:raj.p@acme.example\n"
        "ann@acme.example,stackexchange:beer.stackexchange.com:42\n"
        "nobody@nowhere.example,email:x@y.example\n"
        "ann@acme.example,fax:123\n"
    )
    result = apply_mapping(store, mapping)
    assert [a["action"] for a in result.applied] == ["merged", "alias attached"]
    assert len(result.errors) == 2
    assert "identities.csv, line 4" in result.errors[0] and "nobody@nowhere.example" in result.errors[0]
    assert "identities.csv, line 5" in result.errors[1] and "kind:value" in result.errors[1]
    assert store.find_person("raj.p@acme.example", Viewer.system()).id == raj_slack
    info = explain(store, f"#{raj_slack}")
    assert any(m["rule"] == "mapping file identities.csv, line 2" for m in info["merges"])
    # The attached alias makes a later Stack Exchange import resolve to Ann.
    se = Batch(
        people=[
            Person(
                "stackexchange:beer",
                "42",
                "annlee",
                aliases=[Alias(AliasKind.STACKEXCHANGE, "beer.stackexchange.com:42")],
            )
        ]
    )
    ingest(store, "stackexchange", "stackexchange:beer", [se])
    assert store.counts()["people"] == 2
    # Applying the file again changes nothing.
    again = apply_mapping(store, mapping)
    assert [a["action"] for a in again.applied] == ["already linked", "already linked"]


def test_mapping_file_errors(store: Store, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("who,what\nx,y\n")
    with pytest.raises(InputError) as exc:
        apply_mapping(store, bad)
    assert "bad.csv, line 1" in exc.value.message
    with pytest.raises(InputError):
        apply_mapping(store, tmp_path / "missing.csv")


def test_suggestions_list_same_names_without_conflicting_email(store: Store) -> None:
    ingest(store, "slack", "slack:T1", [slack_batch()])
    ingest(store, "email", "email:legal", [mail_batch()])
    pairs = suggest(store)
    assert [p["name"] for p in pairs] == ["raj patel"]
    assert set(pairs[0]["sources"]) == {"slack:T1", "email:legal"}


def test_opt_out_survives_merge(store: Store) -> None:
    batch = mail_batch()
    batch.people[1].opted_out = True
    ingest(store, "slack", "slack:T1", [slack_batch()])
    ingest(store, "email", "email:legal", [batch])
    with store.read() as conn:
        raj_slack = conn.execute(
            select(schema.person_aliases.c.person_id).where(schema.person_aliases.c.value == "T1:U2")
        ).scalar_one()
        assert (
            conn.execute(
                select(func.count()).select_from(schema.people).where(schema.people.c.opted_out.is_(True))
            ).scalar_one()
            == 1
        )
    merge_id = merge(store, f"#{raj_slack}", "raj.p@acme.example")
    assert store.get_person(raj_slack).opted_out is True
    unmerge(store, merge_id)
    assert store.get_person(raj_slack).opted_out is False
