"""Every derived copy of a person's text or name goes with erasure, retention and a Slack tombstone.

A canary word in one of Bob's Slack messages flows through every path that copies text: the memory's Q&A pair and
its index, the expertise model's evidence, a routed question's draft and candidates, the outbox (a request, a
daily digest, the answer notification), a captured routed answer. After the clean the raw bytes of every file
under the data dir (database, WAL, index, model, state) hold neither the canary nor (erasure) Bob's name or
e-mail, and the asker's ``my_questions`` no longer shows them. The registry test keeps store/schema.py honest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, String, Text, select, update

from whoknows import copies
from whoknows.derive import expertise_path, refresh_after_import, reindex
from whoknows.erasure import erase_person
from whoknows.importers.slack_export import SlackExportReader
from whoknows.ingest import ingest
from whoknows.memory.memory_index import index_path
from whoknows.retention import apply_retention
from whoknows.routing import outbox
from whoknows.routing.actions import answer, my_questions
from whoknows.routing.flow import ask_or_route
from whoknows.settings import Settings
from whoknows.store import Store, open_store, schema

CANARY = "qzcanary8813"
BOB, BOB_EMAIL = "Bartleby Canarysson", "bartleby.canarysson@copies.example"
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
T_OLD = (NOW - timedelta(days=200)).timestamp()


def ts(offset: float) -> str:
    return f"{T_OLD + offset:.6f}"


def user(uid: str, name: str, real: str, email: str) -> dict[str, Any]:
    return {"id": uid, "team_id": "T1", "name": name, "real_name": real, "tz": "Europe/Berlin",
            "profile": {"real_name": real, "display_name": name, "email": email}}  # fmt: skip


def msg(uid: str, at: float, text: str, thread: float | None = None, ok: bool = False) -> dict[str, Any]:
    m: dict[str, Any] = {"type": "message", "user": uid, "ts": ts(at), "text": text}
    if thread is not None:
        m["thread_ts"] = ts(thread)
    if ok:
        m["reactions"] = [{"name": "white_check_mark", "users": ["U1"], "count": 1}]
    return m


BOB_ANSWER = f"Set the {CANARY} flag in the frobnicator gateway config, then restart the frobnicator proxy."


def export(root: Path, *, tombstone: bool = False) -> Path:
    """Ann asks about the frobnicator gateway; Bob answers (with the canary), Cleo answers other questions."""
    general = [
        msg("U1", 0, "How do I configure the frobnicator gateway proxy?", 0),
        msg("U2", 60, BOB_ANSWER, 0, ok=True),
        msg("U1", 120, "Thanks, that worked!", 0),
        msg("U1", 1000, "Where does the frobnicator gateway write its log?", 1000),
        msg("U3", 1060, "The frobnicator gateway log is under /var/log/frob on the proxy host.", 1000, ok=True),
        msg("U1", 2000, "Which port does the frobnicator gateway proxy listen on?", 2000),
        msg("U3", 2060, "The frobnicator gateway proxy listens on port 8443 by default.", 2000, ok=True),
    ]
    if tombstone:  # Bob deleted his answer at the source; Slack keeps a tombstone in its place
        general[1] = {"type": "message", "subtype": "tombstone", "user": "USLACKBOT", "hidden": True,
                      "text": "This message was deleted.", "ts": ts(60), "thread_ts": ts(0)}  # fmt: skip
    files: dict[str, Any] = {
        "users.json": [
            user("U1", "ann", "Annabel Askwell", "annabel@copies.example"),
            user("U2", "bartleby", BOB, BOB_EMAIL),
            user("U3", "cleo", "Cleopatra Helper", "cleo@copies.example"),
        ],
        "channels.json": [{"id": "C1", "name": "support", "created": T_OLD - 100, "members": ["U1", "U2", "U3"]}],
        "support/2026-04-15.json": general,
    }
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(json.dumps(content))
    return root


@dataclass
class World:
    store: Store
    data: Path
    ann: int
    bob: int
    cleo: int


def import_(store: Store, data: Path, path: Path) -> None:
    reader = SlackExportReader(path)
    result = ingest(store, reader.kind, reader.source, reader.batches())
    refresh_after_import(store, data, result.import_id)


def person(store: Store, email: str) -> int:
    a = schema.person_aliases
    with store.read() as conn:
        return int(conn.execute(select(a.c.person_id).where(a.c.kind == "email", a.c.value == email)).scalar_one())


def world(tmp_path: Path) -> World:
    data = tmp_path / "data"
    data.mkdir()
    store = open_store(str(data / "whoknows.db"))
    import_(store, data, export(tmp_path / "export1"))
    reindex(store, data)
    return World(store, data, person(store, "annabel@copies.example"), person(store, BOB_EMAIL),
                 person(store, "cleo@copies.example"))  # fmt: skip


def route_everything(w: World, *, bob_answers: bool) -> int:
    """Route Ann's question to Bob and Cleo (Cleo on a daily digest, released), and let Bob answer it."""
    with w.store.write() as conn:
        conn.execute(
            schema.expert_prefs.insert().values(person_id=w.cleo, channels=["email"], digest="daily", updated_at=NOW)
        )
    settings = Settings(routing_threshold=1.0, routing_floor=0.0)  # both Bob and Cleo asked, however far apart
    routed = ask_or_route(w.store, w.data, "frobnicator gateway proxy config flag", w.ann, k=3, settings=settings,
                          now=NOW, route="always")  # fmt: skip
    assert routed.routed and routed.question_id is not None
    draft = json.dumps(row(w.store, routed.question_id).draft)
    assert CANARY in draft and BOB in draft, "the test needs a draft that cites Bob's answer"
    asked = {a["person_id"]: a["assignment_id"] for a in routed.asked}
    assert {w.bob, w.cleo} <= set(asked), routed.asked
    assert outbox.release_digests(w.store, NOW + timedelta(days=9)) == 1
    if bob_answers:
        answer(w.store, w.data, asked[w.bob], f"Again: the {CANARY} flag.", w.bob, settings=settings, now=NOW)
    return routed.question_id


def row(store: Store, qid: int) -> Any:
    with store.read() as conn:
        return conn.execute(select(schema.routed_questions).where(schema.routed_questions.c.id == qid)).one()


def leaks(data: Path, needles: list[str]) -> dict[str, list[str]]:
    """Needles found in the raw bytes of any file under ``data`` (recursively, whatever the layout)."""
    found: dict[str, list[str]] = {}
    for f in sorted(p for p in data.rglob("*") if p.is_file()):
        raw = f.read_bytes().lower()
        hits = [n for n in needles if n.lower().encode() in raw]
        if hits:
            found[str(f.relative_to(data))] = hits
    return found


def checkpoint(store: Store) -> None:
    raw = store.engine.raw_connection()
    try:
        raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
    store.close()


def shown_to_asker(w: World) -> str:
    return json.dumps(my_questions(w.store, w.store.viewer(w.ann)))


def test_erasure_cleans_every_copy(tmp_path: Path) -> None:
    w = world(tmp_path)
    qid = route_everything(w, bob_answers=True)
    needles = [CANARY, BOB, BOB_EMAIL, "canarysson"]
    assert CANARY in shown_to_asker(w) and BOB in shown_to_asker(w)
    # Positive control: every derived folder holds the canary before the erasure.
    before = leaks(w.data, needles)
    for folder in (index_path(w.data), expertise_path(w.data)):
        assert any(Path(w.data / f).is_relative_to(folder) for f in before), (folder, before)

    erase_person(w.store, w.data, BOB_EMAIL, policy="delete")
    shown = shown_to_asker(w)
    assert CANARY not in shown and BOB not in shown, shown
    assert row(w.store, qid).text.startswith("frobnicator"), "the asker's own question stays"
    checkpoint(w.store)
    assert leaks(w.data, needles) == {}


def test_retention_cleans_every_copy(tmp_path: Path) -> None:
    w = world(tmp_path)
    route_everything(w, bob_answers=False)
    settings = Settings(retention_days=90, retention_keep_knowledge=False)
    apply_retention(w.store, w.data, settings, now=NOW)
    assert CANARY not in shown_to_asker(w)
    checkpoint(w.store)
    assert leaks(w.data, [CANARY]) == {}


def test_slack_tombstone_cleans_every_copy(tmp_path: Path) -> None:
    w = world(tmp_path)
    route_everything(w, bob_answers=False)
    import_(w.store, w.data, export(tmp_path / "export2", tombstone=True))
    assert CANARY not in shown_to_asker(w)
    with w.store.read() as conn:
        m = schema.messages
        author = conn.execute(select(m.c.author_id).where(m.c.text == "")).scalars().all()
    assert author == [None], "a message deleted at the source keeps no author"
    checkpoint(w.store)
    assert leaks(w.data, [CANARY]) == {}


def test_pending_notification_with_erased_text_is_not_delivered(tmp_path: Path) -> None:
    w = world(tmp_path)
    route_everything(w, bob_answers=True)
    ob = schema.notification_outbox
    with w.store.write() as conn:  # nothing was sent yet: every row is due
        conn.execute(update(ob).where(ob.c.status == "sent").values(status="pending"))
    erase_person(w.store, w.data, BOB_EMAIL, policy="delete")
    claimed = outbox.claim(w.store, NOW + timedelta(days=30), limit=1000)
    assert claimed, "the asker's and Cleo's notifications stay (scrubbed)"
    for note in claimed:
        body = json.dumps(note.payload)
        assert CANARY not in body and BOB not in body, body
        assert note.kind != "answer", "an answer by the erased person is not delivered"


def test_every_text_column_is_registered() -> None:
    """A new table or column that can hold text must say what erasure does with it (whoknows.copies)."""
    declared = copies.declared_columns()
    missing = [
        f"{t.name}.{c.name}"
        for t in schema.metadata.sorted_tables
        for c in t.columns
        if isinstance(c.type, String | Text | JSON) and (t.name, c.name) not in declared
    ]
    assert missing == [], f"register these in whoknows.copies (COPIES or NO_PEOPLE_TEXT): {missing}"


def test_privacy_doc_lists_every_copy() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "privacy.md").read_text()
    missing = [c.table for c in copies.COPIES if f"`{c.table}.{', '.join(c.columns)}`" not in doc]
    assert missing == [], f"docs/privacy.md does not list {missing}"
