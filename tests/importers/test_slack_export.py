"""The Slack workspace export importer: mapping, idempotence, incrementality and hostile input."""

from __future__ import annotations

import io
import json
import random
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from whoknows.importers.base import ImportError_
from whoknows.importers.slack_export import MAX_TEXT_CHARS, SlackExportReader
from whoknows.ingest import ingest
from whoknows.model import AliasKind, Batch, MessageKind, SpaceKind, Visibility
from whoknows.store import open_store, schema

REPO = Path(__file__).resolve().parents[2]
T0 = 1_600_000_000  # 2020-09-13T12:26:40Z


def ts(offset: float) -> str:
    return f"{T0 + offset:.6f}"


def user(uid: str, name: str, real: str, email: str | None = None, **extra: Any) -> dict[str, Any]:
    profile: dict[str, Any] = {"real_name": real, "display_name": name.title()}
    if email:
        profile["email"] = email
    return {"id": uid, "team_id": "T1", "name": name, "real_name": real, "tz": "Europe/Berlin",
            "profile": profile, **extra}  # fmt: skip


def export_files(*, newer: bool = False) -> dict[str, Any]:
    """Relative path -> JSON content of a small export; ``newer`` adds a day, a reply and an edit."""
    users = [user("U1", "ann", "Ann Lee", "ann@acme.com"), user("U2", "bob", "Bob Roe", "bob@acme.com"),
             user("U3", "cid", "Cid Poe", deleted=True),
             {"id": "UB", "team_id": "T1", "name": "ci", "is_bot": True,
              "profile": {"real_name": "CI Bot"}}]  # fmt: skip
    general = [
        {"type": "message", "subtype": "channel_join", "user": "U3", "ts": ts(0), "text": "<@U3> has joined"},
        {"type": "message", "user": "U1", "ts": ts(10), "thread_ts": ts(10), "reply_count": 2,
         "text": "How do I reset the <https://vpn.acme.com|VPN> token, <@U2>?",
         "reactions": [{"name": "eyes", "users": ["U2"], "count": 1}]},
        {"type": "message", "user": "U2", "ts": ts(20), "thread_ts": ts(10), "parent_user_id": "U1",
         "text": "Use the portal &amp; restart", "edited": {"user": "U2", "ts": ts(25)},
         "reactions": [{"name": "+1", "users": ["U1", "U3"], "count": 2}]},
        {"type": "message", "subtype": "thread_broadcast", "user": "U3", "ts": ts(30), "thread_ts": ts(10),
         "text": "Also see <#C2|random>"},
        {"type": "message", "user": "U2", "ts": ts(40), "text": "Lunch is served",
         "files": [{"id": "F1", "name": "menu.pdf", "title": "Menu", "url_private": "https://secret"}]},
        {"type": "message", "subtype": "bot_message", "bot_id": "B9", "username": "deploybot", "ts": ts(50),
         "text": "", "attachments": [{"fallback": "Deployed v1.2"}]},
    ]  # fmt: skip
    files: dict[str, Any] = {
        "users.json": users,
        "channels.json": [
            {"id": "C1", "name": "general", "created": T0 - 100, "members": ["U1", "U2", "U3"],
             "purpose": {"value": "Company-wide"}, "topic": {"value": "hi"}},
            {"id": "C2", "name": "random", "created": T0 - 50, "members": ["U1"]},
        ],
        "groups.json": [{"id": "G1", "name": "secret-sales", "created": T0, "members": ["U1", "U2"]}],
        "dms.json": [{"id": "D1", "created": T0, "members": ["U1", "U2"]}],
        "mpims.json": [{"id": "M1", "name": "mpdm-ann--bob--cid-1", "created": T0, "members": ["U1", "U2", "U3"]}],
        "general/2020-09-13.json": general,
        "secret-sales/2020-09-13.json": [{"type": "message", "user": "U1", "ts": ts(60), "text": "Deal closed"}],
        "D1/2020-09-13.json": [{"type": "message", "user": "U2", "ts": ts(70), "text": "ping"}],
        "mpdm-ann--bob--cid-1/2020-09-13.json": [{"type": "message", "user": "U3", "ts": ts(80), "text": "yo"}],
    }  # fmt: skip
    if newer:
        general[2]["text"] = "Use the self-service portal"
        general[2]["edited"] = {"user": "U2", "ts": ts(90_000)}
        files["general/2020-09-14.json"] = [
            {"type": "message", "user": "U1", "ts": ts(86_400), "thread_ts": ts(10), "text": "Thanks, it worked"},
            {"type": "message", "user": "U2", "ts": ts(86_500), "text": "Standup moved"},
        ]  # fmt: skip
    return files


def write_folder(root: Path, files: dict[str, Any]) -> Path:
    for name, content in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())
    return root


def write_zip(path: Path, files: dict[str, Any], *, prefix: str = "") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            zf.writestr(prefix + name, content if isinstance(content, bytes) else json.dumps(content))
    return path


def read_all(reader: SlackExportReader) -> Batch:
    out = Batch()
    for b in reader.batches():
        out.people += b.people
        out.spaces += b.spaces
        out.threads += b.threads
        out.messages += b.messages
    return out


def counts(db: Path) -> dict[str, int]:
    store = open_store(str(db))
    try:
        return store.counts()
    finally:
        store.close()


def run_import(db: Path, path: Path, **limits: float) -> tuple[SlackExportReader, dict[str, dict[str, int]]]:
    reader = SlackExportReader(path)
    reader.limits.update(limits)
    store = open_store(str(db))
    try:
        result = ingest(store, reader.kind, reader.source, reader.batches())
    finally:
        store.close()
    return reader, result.stats.counts


# -- mapping ----------------------------------------------------------------------------------------------------
def test_folder_export_maps_people_spaces_threads_and_messages(tmp_path: Path) -> None:
    reader = SlackExportReader(write_folder(tmp_path / "exp", export_files()))
    assert reader.source == "slack:T1"
    got = read_all(reader)
    people = {p.external_id: p for p in got.people}
    assert set(people) == {"U1", "U2", "U3", "UB", "B9"}
    ann = people["U1"]
    assert ann.name == "Ann Lee" and ann.timezone == "Europe/Berlin" and not ann.is_bot
    assert {(a.kind, a.value) for a in ann.aliases} == {
        (AliasKind.SLACK, "T1:U1"), (AliasKind.EMAIL, "ann@acme.com"), (AliasKind.HANDLE, "ann"),
        (AliasKind.NAME, "Ann Lee")}  # fmt: skip
    assert people["U3"].meta["deleted"] is True and people["UB"].is_bot and people["B9"].is_bot

    spaces = {s.external_id: s for s in got.spaces}
    assert (spaces["C1"].kind, spaces["C1"].visibility, spaces["C1"].name) == (
        SpaceKind.CHANNEL, Visibility.PUBLIC, "general")  # fmt: skip
    assert spaces["C1"].description == "Company-wide" and spaces["C1"].member_refs == ["U1", "U2", "U3"]
    assert (spaces["G1"].kind, spaces["G1"].visibility, spaces["G1"].member_refs) == (
        SpaceKind.CHANNEL, Visibility.PRIVATE, ["U1", "U2"])  # fmt: skip
    assert (spaces["D1"].kind, spaces["D1"].visibility, spaces["D1"].name) == (
        SpaceKind.DM, Visibility.PRIVATE, "dm: Ann, Bob")  # fmt: skip
    assert spaces["M1"].kind == SpaceKind.DM and spaces["M1"].member_refs == ["U1", "U2", "U3"]

    msgs = {m.external_id: m for m in got.messages}
    assert set(msgs) == {f"C1/{ts(o)}" for o in (10, 20, 30, 40, 50)} | {
        f"G1/{ts(60)}", f"D1/{ts(70)}", f"M1/{ts(80)}"}  # fmt: skip
    q = msgs[f"C1/{ts(10)}"]
    assert q.kind == MessageKind.QUESTION and q.thread_ref == f"C1/{ts(10)}" and q.reply_to_ref is None
    assert q.text == "How do I reset the VPN (https://vpn.acme.com) token, @Bob?"
    assert q.created_at == datetime.fromtimestamp(T0 + 10, UTC) and q.reactions == {"eyes": 1}
    reply = msgs[f"C1/{ts(20)}"]
    assert (reply.thread_ref, reply.reply_to_ref, reply.kind) == (q.external_id, q.external_id, MessageKind.MESSAGE)
    assert reply.text == "Use the portal & restart" and reply.reactions == {"+1": 2}
    assert reply.edited_at == datetime.fromtimestamp(T0 + 25, UTC)
    broadcast = msgs[f"C1/{ts(30)}"]
    assert broadcast.reply_to_ref == q.external_id and broadcast.text == "Also see #random"
    lunch = msgs[f"C1/{ts(40)}"]
    assert lunch.thread_ref == lunch.external_id and lunch.kind == MessageKind.MESSAGE
    assert lunch.meta["files"] == [{"name": "menu.pdf", "title": "Menu"}]
    bot = msgs[f"C1/{ts(50)}"]
    assert bot.author_ref == "B9" and bot.text == "Deployed v1.2" and bot.meta["subtype"] == "bot_message"
    threads = {t.external_id: t for t in got.threads}
    assert len(threads) == 6 and threads[q.external_id].title == q.text
    assert threads[q.external_id].space_ref == "C1"
    assert reader.skipped == {"channel_join": 1}
    assert [str(i) for i in reader.issues] == [
        f"{tmp_path / 'exp'}: skipped 1 channel_join message(s) (not conversation)"
    ]


def test_zip_with_top_folder_reads_like_the_folder(tmp_path: Path) -> None:
    folder = read_all(SlackExportReader(write_folder(tmp_path / "exp", export_files())))
    zipped = SlackExportReader(write_zip(tmp_path / "exp.zip", export_files(), prefix="Acme Slack export/"))
    assert zipped.total_hint() is not None
    got = read_all(zipped)
    assert [m.external_id for m in got.messages] == [m.external_id for m in folder.messages]
    assert [m.text for m in got.messages] == [m.text for m in folder.messages]


def test_source_key_without_team_id_hashes_oldest_channel(tmp_path: Path) -> None:
    files = export_files()
    for u in files["users.json"]:
        u.pop("team_id")
    a = SlackExportReader(write_folder(tmp_path / "a", files)).source
    files["channels.json"].append({"id": "C9", "name": "new", "created": T0 + 999})
    b = SlackExportReader(write_folder(tmp_path / "b", files)).source
    assert a == b and a.startswith("slack:h") and len(a) == len("slack:h") + 12


# -- store round trip -----------------------------------------------------------------------------------------
def test_import_is_idempotent_and_incremental(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    _, first = run_import(db, write_zip(tmp_path / "v1.zip", export_files()))
    assert first["messages"] == {"new": 8, "updated": 0, "skipped": 0, "rejected": 0}
    assert first["people"]["new"] == 5 and first["spaces"]["new"] == 5
    _, again = run_import(db, write_zip(tmp_path / "v1b.zip", export_files()))
    assert again["messages"] == {"new": 0, "updated": 0, "skipped": 8, "rejected": 0}
    assert again["threads"]["new"] == 0 and again["people"]["new"] == 0 and again["spaces"]["new"] == 0
    _, newer = run_import(db, write_folder(tmp_path / "v2", export_files(newer=True)))
    assert newer["messages"] == {"new": 2, "updated": 1, "skipped": 7, "rejected": 0}
    assert counts(db)["messages"] == 10
    store = open_store(str(db))
    with store.read() as conn:
        m = schema.messages.c
        text, edited = conn.execute(select(m.text, m.edited_at).where(m.external_id == f"C1/{ts(20)}")).one()
        reply_to = conn.execute(select(m.reply_to_id).where(m.external_id == f"C1/{ts(86_400)}")).scalar_one()
        parent = conn.execute(select(m.id).where(m.external_id == f"C1/{ts(10)}")).scalar_one()
        members = conn.execute(select(schema.space_members.c.person_id).join(
            schema.spaces, schema.spaces.c.id == schema.space_members.c.space_id).where(
            schema.spaces.c.external_id == "G1")).scalars().all()  # fmt: skip
    store.close()
    assert text == "Use the self-service portal" and edited.replace(tzinfo=UTC).timestamp() == T0 + 90_000
    assert reply_to == parent and len(members) == 2


def test_cli_import_and_status(tmp_path: Path) -> None:
    export = write_zip(tmp_path / "export.zip", export_files())
    cli = [str(Path(sys.executable).parent / "whoknows")]
    done = subprocess.run([*cli, "--db", str(tmp_path / "x.db"), "import", "slack", str(export), "--json"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    data = json.loads(done.stdout)
    assert data["source"] == "slack:T1" and data["counts"]["messages"]["new"] == 8
    status = subprocess.run([*cli, "--db", str(tmp_path / "x.db"), "status", "--json"], capture_output=True,
                            text=True, check=True)  # fmt: skip
    assert json.loads(status.stdout)["totals"]["messages"] == 8


# -- hostile and broken input -------------------------------------------------------------------------------
def test_truncated_zip_is_rejected_before_writing(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    run_import(db, write_zip(tmp_path / "ok.zip", export_files()))
    before = counts(db)
    data = write_zip(tmp_path / "full.zip", export_files()).read_bytes()
    bad = tmp_path / "truncated.zip"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImportError_, match=r"truncated\.zip"):
        run_import(db, bad)
    assert counts(db) == before


def test_zip_bomb_is_refused(tmp_path: Path) -> None:
    files = export_files()
    files["general/2020-09-15.json"] = b"[" + b" " * (40 << 20) + b"]"  # 40 MiB of spaces, ~40 KiB zipped
    bomb = write_zip(tmp_path / "bomb.zip", files)
    assert bomb.stat().st_size < 1 << 20
    with pytest.raises(ImportError_, match="zip bomb"):
        SlackExportReader(bomb).validate()
    # A total cap below the declared size refuses too, and so does the streaming cap when headers are trusted.
    reader = SlackExportReader(write_zip(tmp_path / "small.zip", export_files()))
    reader.limits["max_total_bytes"] = 1_000
    with pytest.raises(ImportError_, match="limit"):
        reader.validate()


def test_streaming_limit_does_not_trust_headers(tmp_path: Path) -> None:
    files = export_files()
    files["general/2020-09-15.json"] = json.dumps([{"user": "U1", "ts": ts(5), "text": "x" * 5_000}]).encode()
    reader = SlackExportReader(write_zip(tmp_path / "e.zip", files))
    reader.limits["max_file_bytes"] = 4_000
    got = read_all(reader)
    assert f"C1/{ts(5)}" not in {m.external_id for m in got.messages}
    assert any("2020-09-15.json" in i.file and "larger than 4,000" in i.reason for i in reader.issues)


def test_path_traversal_members_are_ignored(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "evil.zip", export_files())
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("../../etc/passwd.json", "[]")
        zf.writestr("/abs/2020-01-01.json", "[]")
        zf.writestr("general/../../x/2020-01-01.json", "[]")
    reader = SlackExportReader(path)
    got = read_all(reader)
    assert len(got.messages) == 8
    rejected = [i.where for i in reader.issues if "escapes" in i.reason]
    assert rejected == ["member '../../etc/passwd.json'", "member '/abs/2020-01-01.json'",
                        "member 'general/../../x/2020-01-01.json'"]  # fmt: skip


def test_invalid_json_and_wrong_encoding_are_skipped_with_position(tmp_path: Path) -> None:
    files = export_files()
    files["general/2020-09-15.json"] = b'[\n  {"user": "U1", "ts": "1600000001.0",\n  "text": oops}\n]'
    files["general/2020-09-16.json"] = '[{"user": "U1", "ts": "1600000002.0", "text": "caf\xe9"}]'.encode("latin-1")
    reader = SlackExportReader(write_folder(tmp_path / "exp", files))
    got = read_all(reader)
    assert len(got.messages) == 8
    bad = {Path(i.file).name: i for i in reader.issues if "skipped" in i.reason and "JSON" in i.reason}
    assert bad["2020-09-15.json"].where == "line 3, column 11"
    utf = [i for i in reader.issues if "not UTF-8" in i.reason]
    assert len(utf) == 1 and utf[0].file.endswith("2020-09-16.json")


def test_unknown_user_folder_and_bad_timestamps(tmp_path: Path) -> None:
    files = export_files()
    files["general/2020-09-15.json"] = [
        {"user": "U404", "ts": ts(100), "text": "hi from a ghost", "user_profile": {"real_name": "Ghost"}},
        {"user": "U404", "ts": ts(101), "text": "again"},
        {"user": "U1", "ts": "99999999999.0", "text": "far future"},
        {"user": "U1", "ts": "-5", "text": "before epoch"},
        {"user": "U1", "ts": "abc", "text": "garbage"},
        {"user": "U1", "text": "no ts"},
        "not an object",
    ]  # fmt: skip
    files["orphan-channel/2020-09-13.json"] = [{"user": "U2", "ts": ts(200), "text": "where am I?"}]
    reader = SlackExportReader(write_folder(tmp_path / "exp", files))
    got = read_all(reader)
    ghost = next(p for p in got.people if p.external_id == "U404")
    assert ghost.name == "Ghost" and ghost.meta == {"placeholder": True}
    assert sum("unknown user U404" in i.reason for i in reader.issues) == 1
    orphan = next(s for s in got.spaces if s.name == "orphan-channel")
    assert orphan.visibility == Visibility.PRIVATE and orphan.member_refs == [] and orphan.external_id == (
        "folder:orphan-channel")  # fmt: skip
    assert any(m.thread_ref.startswith("folder:orphan-channel/") for m in got.messages)
    bad_ts = [i.where for i in reader.issues if "timestamp" in i.reason or "not a message" in i.reason]
    assert bad_ts == ["record 3", "record 4", "record 5", "record 6", "record 7"]
    assert len(got.messages) == 11
    db = tmp_path / "x.db"
    store = open_store(str(db))
    result = ingest(store, "slack", "slack:T1", iter([got]))
    store.close()
    assert result.stats.counts["messages"]["new"] == 11


def test_huge_message_is_truncated(tmp_path: Path) -> None:
    files = export_files()
    big = "a" * (50 << 20)
    files["general/2020-09-15.json"] = f'[{{"user": "U1", "ts": "{ts(300)}", "text": "{big}"}}]'.encode()
    del big
    reader = SlackExportReader(write_folder(tmp_path / "exp", files))
    got = read_all(reader)
    msg = next(m for m in got.messages if m.external_id == f"C1/{ts(300)}")
    assert len(msg.text) == MAX_TEXT_CHARS and msg.meta["truncated_from"] == 50 << 20
    assert any("truncated" in i.reason and i.where == "record 1" for i in reader.issues)


def test_not_a_slack_export(tmp_path: Path) -> None:
    write_zip(tmp_path / "other.zip", {"readme.txt": "hello"})
    with pytest.raises(ImportError_, match="not a Slack export"):
        SlackExportReader(tmp_path / "other.zip").validate()
    (tmp_path / "plain.zip").write_bytes(b"this is not a zip at all")
    with pytest.raises(ImportError_, match=r"plain\.zip"):
        SlackExportReader(tmp_path / "plain.zip").validate()


def test_random_corruption_never_crashes(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in export_files().items():
            zf.writestr(name, json.dumps(content))
    pristine = buf.getvalue()
    plain = json.dumps(export_files()["general/2020-09-13.json"]).encode()
    rng = random.Random(1234)
    outcomes = {"ok": 0, "rejected": 0}
    for case in range(300):
        data = bytearray(pristine if case % 2 == 0 else plain)
        for _ in range(rng.randint(1, 8)):
            op = rng.random()
            pos = rng.randrange(len(data))
            if op < 0.6:
                data[pos] = rng.randrange(256)
            elif op < 0.8:
                del data[pos : pos + rng.randint(1, 50)]
            else:
                data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 20)))
        if case % 2 == 0:
            path = tmp_path / f"c{case}.zip"
            path.write_bytes(bytes(data))
        else:
            files = export_files()
            files["general/2020-09-13.json"] = bytes(data)
            path = write_folder(tmp_path / f"c{case}", files)
        try:
            read_all(SlackExportReader(path))
            outcomes["ok"] += 1
        except ImportError_:
            outcomes["rejected"] += 1
    assert outcomes["ok"] > 100 and outcomes["rejected"] > 10


def test_generator_writes_an_importable_export(tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO / "bench"))
    try:
        from gen_slack_export import generate
    finally:
        sys.path.remove(str(REPO / "bench"))
    stats = generate(tmp_path / "gen", 500, seed=3)
    assert stats["messages"] == 500
    reader = SlackExportReader(tmp_path / "gen")
    assert reader.source == "slack:TBENCH0001"
    _, got = run_import(tmp_path / "x.db", tmp_path / "gen")
    assert got["messages"]["new"] == 500 and got["messages"]["rejected"] == 0
    assert reader.total_hint() is not None and 200 < (reader.total_hint() or 0) < 1500
