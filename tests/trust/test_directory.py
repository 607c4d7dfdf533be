"""The person directory shows a viewer only people they may know of (issue 16, finding 4).

An attacker enumerated ``GET /api/v1/people/#1…#319`` and got every person, including an outside contact known
only from a private CFO mailbox, and ``GET /people/<their address>`` answered 200 where an unknown address
answers 404. A viewer may now see a person only when the organisation lists them, they have an account, or they
appear in a space the viewer can read; anyone else gets exactly the unknown-person answer.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from leakorg import SRC, build_org
from sqlalchemy import func, select

from whoknows.access import Viewer
from whoknows.api.accounts import add_account, issue_token
from whoknows.api.app import create_app
from whoknows.errors import NotFoundError
from whoknows.identity import merge, unmerge
from whoknows.ingest import ingest
from whoknows.model import Alias, AliasKind, Batch, Person
from whoknows.store import schema


def _error(call: object) -> tuple[str, str]:
    assert callable(call)
    with pytest.raises(NotFoundError) as exc:
        call()
    return exc.value.code, exc.value.message


def test_people_seen_only_in_private_spaces_do_not_exist_for_outsiders(tmp_path: Path) -> None:
    org = build_org(tmp_path)
    try:
        store, ids = org.store, org.ids
        ivy, pia = store.viewer(ids["ivy"]), ids["pia"]  # Pia writes only in the private #deal-room
        missing = 10**6
        assert _error(lambda: store.find_person(f"#{pia}", ivy)) == (
            "person.not_found",
            f"no person with id {pia}",
        )
        assert _error(lambda: store.find_person(f"#{missing}", ivy)) == (
            "person.not_found",
            f"no person with id {missing}",
        )
        hidden = _error(lambda: store.find_person(org.email("pia"), ivy))
        unknown = _error(lambda: store.find_person("nobody@leak.example", ivy))
        assert hidden == (unknown[0], unknown[1].replace("nobody@", "pia@"))
        assert _error(lambda: store.find_person("Pia Quorndale", ivy))[0] == "person.not_found"
        # People in spaces the viewer reads are there: Hal answers in #general; Ann shares the room with Pia.
        assert store.find_person(org.email("hal"), ivy).id == ids["hal"]
        assert store.find_person(f"#{pia}", store.viewer(ids["ann"])).id == pia
        assert store.find_person(f"#{pia}", store.viewer(pia)).id == pia  # oneself
        assert store.find_person(f"#{pia}", Viewer.system()).id == pia
        # Enumerating every id shows the outsider nobody who appears only in spaces they cannot read.
        with store.read() as conn:
            top = int(conn.execute(select(func.max(schema.people.c.id))).scalar() or 0)
        seen = set()
        for i in range(1, top + 1):
            with contextlib.suppress(NotFoundError):
                seen.add(store.find_person(f"#{i}", ivy).id)
        assert pia not in seen and ids["hal"] in seen and ids["ivy"] in seen
        assert not {ids["cat"], ids["dan"], ids["fay"]} & seen  # they write in private spaces only
    finally:
        org.close()


def test_listed_people_and_account_holders_are_in_the_directory(tmp_path: Path) -> None:
    org = build_org(tmp_path)
    try:
        store = org.store
        listed = Person(SRC, "zed", "Zed Listed", aliases=[Alias(AliasKind.EMAIL, "zed@leak.example")], listed=True)
        ingest(store, "test", SRC, [Batch(people=[listed])])
        ivy = store.viewer(org.ids["ivy"])
        assert store.find_person("zed@leak.example", ivy).name == "Zed Listed"
        # An account makes Pia a colleague anyone signed in may look up.
        add_account(store, org.email("pia"), role="member", password=None)
        assert store.find_person(org.email("pia"), store.viewer(org.ids["ivy"])).id == org.ids["pia"]
    finally:
        org.close()


def test_a_listing_follows_its_record_through_merge_and_unmerge(tmp_path: Path) -> None:
    org = build_org(tmp_path)
    try:
        store = org.store
        listed = Person(SRC, "zed", "Zed Listed", aliases=[Alias(AliasKind.EMAIL, "zed@leak.example")], listed=True)
        ingest(store, "test", SRC, [Batch(people=[listed])])
        zed = store.find_person("zed@leak.example", Viewer.system()).id
        pia = org.ids["pia"]
        merge_id = merge(store, f"#{pia}", f"#{zed}")
        assert store.find_person(f"#{pia}", store.viewer(org.ids["ivy"])).id == pia  # listed through Zed's record
        back = unmerge(store, merge_id)
        ivy = store.viewer(org.ids["ivy"])
        assert store.find_person(f"#{back}", ivy).id == back
        with pytest.raises(NotFoundError):
            store.find_person(f"#{pia}", ivy)
    finally:
        org.close()


def test_api_person_lookup_answers_hidden_people_as_unknown(tmp_path: Path) -> None:
    org = build_org(tmp_path)
    try:
        account = add_account(org.store, org.email("ivy"), role="member", password=None)
        token = issue_token(org.store, account["account_id"], kind="api", name="t").token
        auth = {"Authorization": f"Bearer {token}"}
        with TestClient(create_app(org.settings, store=org.store)) as client:
            pia, missing = org.ids["pia"], 10**6
            hidden = client.get(f"/api/v1/people/%23{pia}", headers=auth)
            unknown = client.get(f"/api/v1/people/%23{missing}", headers=auth)
            assert hidden.status_code == unknown.status_code == 404
            assert hidden.json() == {
                "error": {
                    **unknown.json()["error"],
                    "message": unknown.json()["error"]["message"].replace(str(missing), str(pia)),
                }
            }
            by_mail = client.get(f"/api/v1/people/{org.email('pia')}", headers=auth)
            nobody = client.get("/api/v1/people/nobody@leak.example", headers=auth)
            assert by_mail.status_code == nobody.status_code == 404
            assert by_mail.json()["error"]["code"] == nobody.json()["error"]["code"]
            assert client.get(f"/api/v1/people/%23{pia}/profile", headers=auth).status_code == 404
            assert client.get(f"/api/v1/people/{org.email('hal')}", headers=auth).status_code == 200
    finally:
        org.close()
