"""The store conformance suite: every test runs on SQLite and (when configured) on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from whoknows.access import Viewer
from whoknows.errors import NotFoundError
from whoknows.ingest import ingest
from whoknows.model import (
    Alias,
    AliasKind,
    Batch,
    Message,
    MessageKind,
    Person,
    Space,
    SpaceKind,
    Thread,
    Visibility,
)
from whoknows.store import Store, schema

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
SRC = "test:acme"


def people() -> list[Person]:
    return [
        Person(
            SRC,
            "u1",
            "Ann Lee",
            aliases=[Alias(AliasKind.EMAIL, "Ann.Lee@Acme.example")],
            department="Sales",
            team="EMEA",
            role="Account Executive",
            timezone="Europe/Berlin",
        ),
        Person(SRC, "u2", "Bo Chen", aliases=[Alias(AliasKind.HANDLE, "bochen")], department="Legal"),
        Person(SRC, "u3", "Cy Patel", department="Product"),
    ]


def org_batch() -> Batch:
    return Batch(
        people=people(),
        spaces=[
            Space(SRC, "c-general", SpaceKind.CHANNEL, "#general"),
            Space(SRC, "c-legal", SpaceKind.CHANNEL, "#legal", Visibility.PRIVATE, member_refs=["u2", "u1"]),
        ],
        threads=[Thread(SRC, "t1", "c-general", "DPA question", T0), Thread(SRC, "t2", "c-legal", None, T0)],
        messages=[
            # Out of order on purpose: the reply comes before its parent in the batch.
            Message(
                SRC,
                "m2",
                "t1",
                "u2",
                T0 + timedelta(minutes=5),
                "Send the standard DPA.",
                reply_to_ref="m1",
                reactions={"white_check_mark": 1},
            ),
            Message(SRC, "m1", "t1", "u1", T0, "Where is our DPA?", kind=MessageKind.QUESTION),
            Message(SRC, "m3", "t1", "u1", T0 + timedelta(minutes=9), "Thanks, that worked!", reply_to_ref="m2"),
            Message(SRC, "m4", "t2", "u2", T0, "Private legal note: canary-7f3a", kind=MessageKind.MESSAGE),
        ],
    )


def count(store: Store, table: object) -> int:
    with store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_fresh_database_is_at_latest_schema(store: Store) -> None:
    from whoknows.store.migrations import LATEST

    assert store.schema_version() == LATEST
    assert store.counts()["messages"] == 0


def test_write_and_read_back(store: Store) -> None:
    result = ingest(store, "test", SRC, [org_batch()])
    assert result.stats.counts["people"]["new"] == 3
    assert result.stats.counts["messages"]["new"] == 4
    assert store.counts() == {"people": 3, "spaces": 2, "threads": 2, "messages": 4, "imports": 1}
    with store.read() as conn:
        m = schema.messages
        rows = {r.external_id: r for r in conn.execute(select(m))}
    assert rows["m2"].reply_to_id == rows["m1"].id
    assert rows["m3"].reply_to_id == rows["m2"].id
    assert rows["m2"].reactions == {"white_check_mark": 1}
    assert rows["m1"].kind == "question"
    assert rows["m1"].import_id == result.import_id
    assert all(r.source == SRC for r in rows.values())
    created = rows["m1"].created_at
    assert created.replace(tzinfo=created.tzinfo or UTC) == T0


def test_reimport_is_idempotent(store: Store) -> None:
    ingest(store, "test", SRC, [org_batch()])
    again = ingest(store, "test", SRC, [org_batch()])
    assert again.stats.total("new") == 0
    assert again.stats.counts["messages"]["skipped"] == 4
    assert store.counts()["messages"] == 4
    assert count(store, schema.person_aliases) == 3 + 1 + 1  # external aliases + e-mail + handle


def test_newer_export_updates_and_adds(store: Store) -> None:
    ingest(store, "test", SRC, [org_batch()])
    newer = org_batch()
    newer.messages[1].text = "Where is our DPA? (edited)"
    newer.messages[1].edited_at = T0 + timedelta(hours=1)
    newer.messages.append(
        Message(SRC, "m5", "t1", "u3", T0 + timedelta(hours=2), "Also see the wiki.", reply_to_ref="m1")
    )
    result = ingest(store, "test", SRC, [newer])
    assert result.stats.counts["messages"] == {"new": 1, "updated": 1, "skipped": 3, "rejected": 0}
    with store.read() as conn:
        text = conn.execute(select(schema.messages.c.text).where(schema.messages.c.external_id == "m1")).scalar()
    assert text == "Where is our DPA? (edited)"


def test_people_merge_by_alias_across_sources(store: Store) -> None:
    ingest(store, "test", SRC, [org_batch()])
    other = Batch(
        people=[
            Person(
                "mail:box",
                "ann.lee@acme.example",
                "Ann Lee",
                aliases=[Alias(AliasKind.EMAIL, "ann.lee@ACME.example")],
                role="AE",
            )
        ]
    )
    result = ingest(store, "email", "mail:box", [other])
    assert result.stats.counts["people"]["new"] == 0
    assert store.counts()["people"] == 3
    ann = store.find_person("ANN.LEE@acme.example", Viewer.system())
    assert ann.name == "Ann Lee"
    assert ("external", "mail:box#ann.lee@acme.example") in {(a.kind.value, a.value) for a in ann.aliases}
    # The role was set by the first source and is not overwritten by another source.
    assert ann.role == "Account Executive"


def test_membership_follows_latest_export(store: Store) -> None:
    ingest(store, "test", SRC, [org_batch()])
    ann = store.find_person("ann.lee@acme.example", Viewer.system()).id
    bo = store.find_person("@bochen", Viewer.system()).id
    assert ann is not None and bo is not None
    legal = next(s for s in store.status().spaces if s["name"] == "#legal")["id"]
    assert legal in store.viewer(ann).spaces
    removed = Batch(spaces=[Space(SRC, "c-legal", SpaceKind.CHANNEL, "#legal", Visibility.PRIVATE, member_refs=["u2"])])
    ingest(store, "test", SRC, [removed])
    assert legal not in store.viewer(ann).spaces
    assert legal in store.viewer(bo).spaces
    assert legal not in store.viewer(None).spaces


def test_unknown_references_are_rejected_with_warnings(store: Store) -> None:
    batch = org_batch()
    batch.threads.append(Thread(SRC, "t9", "c-nowhere", "orphan", T0))
    batch.messages.append(Message(SRC, "m9", "t-nowhere", "u1", T0, "orphan message"))
    batch.messages.append(Message(SRC, "m10", "t1", "ghost", T0, "from an unknown author"))
    result = ingest(store, "test", SRC, [batch])
    assert result.stats.counts["threads"]["rejected"] == 1
    assert result.stats.counts["messages"]["rejected"] == 1
    assert any("c-nowhere" in w for w in result.warnings)
    assert any("ghost" in w for w in result.warnings)
    assert store.counts()["messages"] == 5


def test_failed_batch_leaves_nothing_behind(store: Store) -> None:
    ingest(store, "test", SRC, [org_batch()])
    before = store.counts()

    def batches() -> object:
        yield Batch(
            people=[Person(SRC, "u9", "New Person")],
            threads=[Thread(SRC, "t3", "c-general", "x", T0)],
            messages=[Message(SRC, "m20", "t3", "u9", T0, "half written?")],
        )
        raise RuntimeError("importer crashed")

    with pytest.raises(RuntimeError):
        ingest(store, "test", SRC, batches())  # type: ignore[arg-type]
    after = store.counts()
    # The first batch committed on its own; nothing of the existing data was lost.
    assert after["messages"] == before["messages"] + 1
    assert after["imports"] == before["imports"] + 1
    with store.read() as conn:
        status = conn.execute(select(schema.imports.c.status).order_by(schema.imports.c.id.desc())).scalar()
    assert status == "failed"


def test_batch_is_atomic(store: Store) -> None:
    ingest(store, "test", SRC, [org_batch()])
    before = store.counts()
    writer = store.writer(None)
    bad = Batch(people=[Person(SRC, "u7", "Dee")], messages=[Message(SRC, "m30", "t1", "u7", T0, "x" * 10)])
    bad.messages[0].created_at = None  # type: ignore[assignment]  # violates NOT NULL mid-batch
    with pytest.raises(Exception):  # noqa: B017 - any database error
        store.write_batch(writer, bad)
    assert store.counts() == before
    assert not writer.people  # the cache did not keep ids of rolled-back rows


def test_find_person_and_errors(store: Store) -> None:
    ingest(store, "test", SRC, [org_batch()])
    assert store.find_person("bo chen", Viewer.system()).name == "Bo Chen"
    assert store.find_person("Cy Patel", Viewer.system()).department == "Product"
    pid = store.find_person("cy patel", Viewer.system()).id
    assert store.find_person(f"#{pid}", Viewer.system()).name == "Cy Patel"
    with pytest.raises(NotFoundError) as exc:
        store.find_person("nobody@nowhere", Viewer.system())
    assert exc.value.code == "person.not_found"


def test_opt_out_is_sticky(store: Store) -> None:
    batch = org_batch()
    batch.people[2].opted_out = True
    ingest(store, "test", SRC, [batch])
    ingest(store, "test", SRC, [org_batch()])  # the newer export does not carry the flag
    assert store.find_person("cy patel", Viewer.system()).opted_out is True


def test_status_report(store: Store) -> None:
    ingest(store, "test", SRC, [org_batch()])
    report = store.status()
    assert report.totals == {"people": 3, "spaces": 2, "threads": 2, "messages": 4}
    assert report.sources[0]["source"] == SRC and report.sources[0]["messages"] == 4
    general = next(s for s in report.spaces if s["name"] == "#general")
    assert general["messages"] == 3 and general["visibility"] == "public"
    assert report.people[0]["name"] in ("Ann Lee", "Bo Chen")
    assert report.imports[0]["status"] == "done"


def test_membership_inferred_from_messages_only_grows(store: Store) -> None:
    ingest(store, "test", SRC, [org_batch()])
    cy = store.find_person("cy patel", Viewer.system()).id
    ann = store.find_person("ann.lee@acme.example", Viewer.system()).id
    box = Space(
        SRC, "c-legal", SpaceKind.CHANNEL, "#legal", Visibility.PRIVATE, member_refs=["u3"], members_complete=False
    )
    ingest(store, "test", SRC, [Batch(spaces=[box])])
    legal = next(s for s in store.status().spaces if s["name"] == "#legal")["id"]
    assert legal in store.viewer(cy).spaces
    assert legal in store.viewer(ann).spaces  # not removed: the file says nothing about Ann
