"""The historical leak routes of systems like this one, each through the real importers (or ``ingest``) and the
import's refresh, with every cache warm before the change:

* a thread that moves from a public into a private space (a Slack channel turned private; the same external ids
  re-imported into a private space; a ticket moved into another queue);
* a member removed from a private space (a newer export without them);
* a message edited to remove a secret, and a message deleted at the source (a Slack tombstone);
* search caches: the API's warm ``MemorySearch`` handle (``AppState.memory()``), the process-wide expertise model
  cache, and a ``MemorySearch`` handle opened before the change and kept.

After each change the secret must be gone *immediately* (right after the import's refresh) for everybody who may
no longer read it, on every surface; members keep seeing what is still theirs. Erasure: tests/trust/test_erasure.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from leakorg import canary_token, tokens_in_files

from whoknows.access import Viewer
from whoknows.analytics import build_report
from whoknows.api.accounts import add_account, issue_token
from whoknows.api.app import create_app
from whoknows.derive import derived_dir, expertise_path, refresh_after_import
from whoknows.expertise import find_experts, profile
from whoknows.importers import reader_for
from whoknows.ingest import ImportResult, ingest
from whoknows.memory.ask import MemorySearch
from whoknows.memory.memory_index import index_path
from whoknows.model import Alias, AliasKind, Batch, Message, MessageKind, Person, Space, SpaceKind, Thread, Visibility
from whoknows.settings import Settings
from whoknows.store import Store, open_store

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TOPIC = "walrus discount code Zanzibar freight"
USERS = {"U1": "ann", "U2": "bob", "U3": "ivy", "U4": "hal"}
NAMES = {"ann": "Ann Abbott", "bob": "Bob Brandt", "ivy": "Ivy Ingram", "hal": "Hal Halloran"}
Q, A = canary_token(500, "q"), canary_token(500, "a")


def email(ext: str) -> str:
    return f"{ext}@leak.example"


@dataclass
class World:
    """A store, its data folder, an API app over it, and handles opened *before* any change (the caches)."""

    store: Store
    settings: Settings
    data: Path
    client: TestClient
    tokens: dict[str, str] = field(default_factory=dict)
    old_search: MemorySearch | None = None

    def pid(self, ext: str) -> int:
        pid = self.store.find_person(email(ext), Viewer.system()).id
        assert pid is not None
        return pid

    def import_(self, kind: str, path: Path, space_name: str | None = None) -> ImportResult:
        reader = reader_for(kind, path, space_name=space_name)
        result = ingest(self.store, reader.kind, reader.source, reader.batches(), location=str(path))
        refresh_after_import(self.store, self.data, result.import_id)
        return result

    def ingest(self, batch: Batch) -> None:
        result = ingest(self.store, "test", "test:routes", [batch])
        refresh_after_import(self.store, self.data, result.import_id)

    def accounts(self) -> None:
        for ext in NAMES:
            account = add_account(self.store, email(ext), role="member", password="routes password 42")
            self.tokens[ext] = issue_token(self.store, account["account_id"], kind="api", name="routes").token

    def warm(self) -> None:
        """Open every cache before the change: the API's memory handle and expertise model, a kept handle."""
        for ext in NAMES:
            self.views(ext)
        self.old_search = MemorySearch(self.store, index_path(self.data))

    def views(self, viewer: str, query: str = TOPIC) -> dict[str, Any]:
        """Everything ``viewer`` can get about ``query``: ask (fresh, kept and the API's warm handle), experts,
        profiles of everybody, analytics."""
        pid = self.pid(viewer)
        out: dict[str, Any] = {
            "ask": MemorySearch(self.store, index_path(self.data)).ask(query, self.store.viewer(pid), k=10).as_dict(),
            "experts": find_experts(
                self.store, query, self.store.viewer(pid), path=expertise_path(self.data)
            ).as_dict(),
            "profiles": [
                profile(self.store, email(p), self.store.viewer(pid), path=expertise_path(self.data)).as_dict()
                for p in NAMES
            ],
            "analytics": build_report(self.store, self.store.viewer(pid), settings=self.settings).as_dict(),
        }
        if self.old_search is not None:
            out["ask (handle kept open)"] = self.old_search.ask(query, self.store.viewer(pid), k=10).as_dict()
        h = {"Authorization": f"Bearer {self.tokens[viewer]}"}
        r = self.client.post("/api/v1/ask", json={"question": query, "k": 10}, headers=h)
        assert r.status_code == 200, r.text
        out["POST /ask"] = r.json()
        r = self.client.get(f"/api/v1/people/{email('bob')}/profile", headers=h)
        assert r.status_code == 200, r.text
        out["GET /people/bob/profile"] = r.json()
        return out

    def seen(self, viewer: str, tokens: list[str], query: str = TOPIC) -> dict[str, list[str]]:
        """Per surface, which of ``tokens`` the viewer sees."""
        found = {}
        for surface, data in self.views(viewer, query).items():
            text = json.dumps(data, default=str).lower()
            hits = [t for t in tokens if t.lower() in text]
            if hits:
                found[surface] = hits
        return found


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    settings = Settings(data_dir=tmp_path, db=str(tmp_path / "routes.db"), analytics_min_group=2)
    store = open_store(settings)
    client = TestClient(create_app(settings, store=store))
    w = World(store, settings, derived_dir(tmp_path, store), client)  # the server's derived folder
    try:
        yield w
    finally:
        client.close()
        store.close()


# -- Slack exports ------------------------------------------------------------------------------------------
def ts(minutes: float) -> str:
    return f"{(T0 + timedelta(minutes=minutes)).timestamp():.6f}"


def slack_thread(question: str, answer: str, *, at: float = 0, asker: str = "U1", helper: str = "U2") -> list[Any]:
    root = ts(at)
    return [
        {"type": "message", "user": asker, "text": question, "ts": root},
        {"type": "message", "user": helper, "text": answer, "ts": ts(at + 5), "thread_ts": root,
         "reactions": [{"name": "white_check_mark", "count": 1, "users": [asker]}]},
        {"type": "message", "user": asker, "text": "Thanks, that worked!", "ts": ts(at + 9), "thread_ts": root},
    ]  # fmt: skip


def public_threads() -> list[Any]:
    """Public know-how on the same topic in #general (so outsiders get results, and a ranker has something)."""
    return slack_thread(
        f"What is the process for the {TOPIC}?",
        "Ask the deal desk for the walrus discount code; Zanzibar freight codes expire after a quarter.",
        at=60, asker="U3", helper="U4",
    ) + slack_thread(
        "How long is a walrus discount code valid for Zanzibar freight?",
        "A quarter; the deal desk renews walrus discount codes.",
        at=120, asker="U1", helper="U4",
    )  # fmt: skip


def write_slack(
    root: Path, deals_private: bool, deals_members: list[str], deals: list[Any], general: list[Any] | None = None
) -> Path:
    """A Slack export: #general (public, everybody) and #deals (public or private, with its members)."""
    root.mkdir(parents=True)
    users = [
        {"id": uid, "name": ext, "real_name": NAMES[ext], "profile": {"email": email(ext), "real_name": NAMES[ext]}}
        for uid, ext in USERS.items()
    ]
    (root / "users.json").write_text(json.dumps(users))
    general_ch = {"id": "C0", "name": "general", "members": list(USERS)}
    deals_ch = {"id": "C1", "name": "deals", "members": deals_members}
    (root / "channels.json").write_text(json.dumps([general_ch] + ([] if deals_private else [deals_ch])))
    (root / "groups.json").write_text(json.dumps([deals_ch] if deals_private else []))
    for name, messages in (("general", public_threads() if general is None else general), ("deals", deals)):
        (root / name).mkdir()
        (root / name / "2026-03-02.json").write_text(json.dumps(messages))
    return root


def secret_thread(question_extra: str = "", answer_extra: str = "") -> list[Any]:
    return slack_thread(
        f"How do we apply the {TOPIC} {Q} for our biggest account?{question_extra}",
        f"The {TOPIC} is {A}: ask legal first, it worked last quarter.{answer_extra}",
    )


def no_leaks(world: World, outsiders: list[str], tokens: list[str], what: str) -> None:
    leaks = {v: found for v in outsiders if (found := world.seen(v, tokens))}
    assert not leaks, f"{what}: {leaks}"


def sees(world: World, viewer: str, tokens: list[str]) -> set[str]:
    return {t for hits in world.seen(viewer, tokens).values() for t in hits}


def test_slack_channel_turned_private(world: World, tmp_path: Path) -> None:
    world.import_("slack", write_slack(tmp_path / "e1", False, list(USERS), secret_thread()))
    world.accounts()
    world.warm()
    assert sees(world, "ivy", [Q, A]) == {Q, A}  # public: everybody (positive control)
    # The newer export lists #deals in groups.json: a private channel of Ann and Bob.
    world.import_("slack", write_slack(tmp_path / "e2", True, ["U1", "U2"], secret_thread()))
    no_leaks(world, ["ivy", "hal"], [Q, A], "channel turned private")
    assert sees(world, "ann", [Q, A]) == {Q, A} and sees(world, "bob", [Q, A]) == {Q, A}


def test_slack_member_removed(world: World, tmp_path: Path) -> None:
    world.import_("slack", write_slack(tmp_path / "e1", True, ["U1", "U2", "U3"], secret_thread()))
    world.accounts()
    world.warm()
    assert sees(world, "ivy", [Q, A]) == {Q, A}  # a member (positive control)
    no_leaks(world, ["hal"], [Q, A], "never a member")
    world.import_("slack", write_slack(tmp_path / "e2", True, ["U1", "U2"], secret_thread()))
    no_leaks(world, ["ivy", "hal"], [Q, A], "member removed")
    assert sees(world, "ann", [Q, A]) == {Q, A}


def _ids_batch(space: str, spaces: list[Space]) -> Batch:
    src = "test:routes"
    people = [Person(src, ext, NAMES[ext], aliases=[Alias(AliasKind.EMAIL, email(ext))]) for ext in NAMES]
    thread = Thread(src, "t1", space, None, T0)
    msgs = [
        Message(src, "q1", "t1", "ann", T0, f"How do we apply the {TOPIC} {Q}?", kind=MessageKind.QUESTION),
        Message(src, "a1", "t1", "bob", T0 + timedelta(minutes=5), f"The {TOPIC} is {A}: ask legal first.",
                reply_to_ref="q1", reactions={"white_check_mark": 1}),
        Message(src, "k1", "t1", "ann", T0 + timedelta(minutes=9), "Thanks, that worked!", reply_to_ref="a1"),
    ]  # fmt: skip
    pub = Thread(src, "t2", "general", None, T0)
    msgs += [
        Message(src, "q2", "t2", "ivy", T0, f"What is the process for the {TOPIC}?", kind=MessageKind.QUESTION),
        Message(src, "a2", "t2", "hal", T0 + timedelta(minutes=5), "Ask the deal desk for a walrus discount code.",
                reply_to_ref="q2", reactions={"white_check_mark": 1}),
    ]  # fmt: skip
    return Batch(people=people, spaces=spaces, threads=[thread, pub], messages=msgs)


def test_thread_moved_from_public_into_private(world: World) -> None:
    src = "test:routes"
    spaces = [
        Space(src, "general", SpaceKind.CHANNEL, "#general", Visibility.PUBLIC),
        Space(src, "room", SpaceKind.CHANNEL, "#deal-room", Visibility.PRIVATE, member_refs=["ann", "bob"]),
    ]
    world.ingest(_ids_batch("general", spaces))
    world.accounts()
    world.warm()
    assert sees(world, "ivy", [Q, A]) == {Q, A}
    # The same thread and messages (same external ids), now in the private room.
    world.ingest(_ids_batch("room", spaces))
    no_leaks(world, ["ivy", "hal"], [Q, A], "thread moved into a private space")
    assert sees(world, "ann", [Q, A]) == {Q, A}


def write_tickets(path: Path, secret_queue: str) -> Path:
    """Two tickets: the secret one (Ann asks, Bob solves) in ``secret_queue``, Ivy's (Hal solves) in General."""
    rows = [
        {"ticket_id": "T-1", "queue": secret_queue, "subject": f"{TOPIC} for Globex",
         "requester": email("ann"), "assignee": email("bob"), "status": "solved",
         "created_at": T0.isoformat(), "description": f"How do we apply the {TOPIC} {Q}?",
         "comments": [{"author": email("bob"), "created_at": (T0 + timedelta(hours=1)).isoformat(),
                       "body": f"The {TOPIC} is {A}: ask legal first.", "public": True}]},
        {"ticket_id": "T-2", "queue": "General", "subject": f"{TOPIC} process",
         "requester": email("ivy"), "assignee": email("hal"), "status": "solved",
         "created_at": (T0 + timedelta(hours=2)).isoformat(), "description": f"What is the process for the {TOPIC}?",
         "comments": [{"author": email("hal"), "created_at": (T0 + timedelta(hours=3)).isoformat(),
                       "body": "Ask the deal desk for a walrus discount code.", "public": True}]},
    ]  # fmt: skip
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_ticket_moved_into_another_queue(world: World, tmp_path: Path) -> None:
    world.import_("tickets", write_tickets(tmp_path / "t1.jsonl", "General"), space_name="helpdesk")
    world.accounts()
    world.warm()
    assert sees(world, "ivy", [Q, A]) == {Q, A}  # the General queue's members include Ivy and Hal
    world.import_("tickets", write_tickets(tmp_path / "t2.jsonl", "Legal"), space_name="helpdesk")
    no_leaks(world, ["ivy", "hal"], [Q, A], "ticket moved into the Legal queue")
    assert sees(world, "ann", [Q, A]) == {Q, A}


def test_slack_edit_removes_the_old_text_everywhere(world: World, tmp_path: Path) -> None:
    world.import_("slack", write_slack(tmp_path / "e1", True, ["U1", "U2"], secret_thread()))
    world.accounts()
    world.warm()
    derived = [world.data / "index", world.data / "expertise"]
    assert sees(world, "bob", [Q, A]) == {Q, A}
    assert all(tokens_in_files(d, [Q, A]) for d in derived), "positive control: the secrets are indexed"
    # Both messages edited at the source: same ts, new text, ``edited``.
    edited = secret_thread()
    edited[0] = {
        **edited[0],
        "text": f"How do we apply the {TOPIC} for our biggest account?",
        "edited": {"user": "U1", "ts": ts(30)},
    }
    edited[1] = {**edited[1], "text": f"The {TOPIC} rule: ask legal first, it worked last quarter.",
                 "edited": {"user": "U2", "ts": ts(31)}}  # fmt: skip
    world.import_("slack", write_slack(tmp_path / "e2", True, ["U1", "U2"], edited))
    no_leaks(world, list(NAMES), [Q, A], "edited away (members included)")
    assert world.seen("ann", ["ask legal first"]), "the edited text is what members find now"
    for d in derived:
        assert tokens_in_files(d, [Q, A]) == {}, f"old text left in {d}"
    db_files = [p for p in world.data.glob("routes.db*") if p.is_file()]
    left = {str(p.name) for p in db_files if any(t.encode() in p.read_bytes().lower() for t in (Q, A))}
    print(f"\nedit: old text in the SQLite files (free pages, not erased by design of an edit): {sorted(left)}")


def test_slack_tombstone_removes_a_deleted_message(world: World, tmp_path: Path) -> None:
    world.import_("slack", write_slack(tmp_path / "e1", True, ["U1", "U2"], secret_thread()))
    world.accounts()
    world.warm()
    derived = [world.data / "index", world.data / "expertise"]
    assert sees(world, "bob", [Q]) == {Q}
    # Ann deleted her question; Slack keeps a tombstone in its place because it has replies.
    deleted = secret_thread()
    deleted[0] = {"type": "message", "subtype": "tombstone", "user": "USLACKBOT", "hidden": True,
                  "text": "This message was deleted.", "ts": deleted[0]["ts"], "thread_ts": deleted[0]["ts"],
                  "reply_count": 2}  # fmt: skip
    world.import_("slack", write_slack(tmp_path / "e2", True, ["U1", "U2"], deleted))
    no_leaks(world, list(NAMES), [Q], "deleted at the source (members included)")
    for d in derived:
        assert tokens_in_files(d, [Q]) == {}, f"deleted text left in {d}"
    assert sees(world, "ann", [A]) == {A}, "the replies were not deleted"
    no_leaks(world, ["ivy", "hal"], [A], "outsiders")
