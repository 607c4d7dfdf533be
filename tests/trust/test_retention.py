"""Data retention: old raw messages go (from the database files and the index), knowledge stays de-identified."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from whoknows.analytics.ledger import events_from_space
from whoknows.analytics.rows import iter_spaces, load_spaces
from whoknows.derive import reindex
from whoknows.ingest import ingest
from whoknows.memory.ask import ask
from whoknows.model import Alias, AliasKind, Batch, Message, MessageKind, Person, Space, SpaceKind, Thread
from whoknows.retention import apply_retention
from whoknows.settings import Settings
from whoknows.store import Store, open_store, schema

SRC = "test:retention"
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=200)
NEW = NOW - timedelta(days=10)
DAYS = 90
ANN, ANN_EMAIL = "Annika Oldtimerova", "annika.oldtimerova@retention.example"
BOB = "Bartholomew Helpwright"
CANARIES = ["retaincanary-lunch", "retaincanary-open", "retaincanary-chat", "retaincanary-thanks", "retaincanary-title"]


def batch() -> Batch:
    def msg(ext: str, thread: str, who: str, at: datetime, text: str, **kw: object) -> Message:
        return Message(SRC, ext, thread, who, at, text, **kw)  # type: ignore[arg-type]

    m = timedelta(minutes=1)
    return Batch(
        people=[
            Person(SRC, "ann", ANN, aliases=[Alias(AliasKind.EMAIL, ANN_EMAIL)]),
            Person(SRC, "bob", BOB, aliases=[Alias(AliasKind.EMAIL, "bart.helpwright@retention.example")]),
            Person(SRC, "cleo", "Cleo Recent", aliases=[Alias(AliasKind.EMAIL, "cleo@retention.example")]),
        ],
        spaces=[Space(SRC, "sup", SpaceKind.CHANNEL, "#support")],
        threads=[
            Thread(SRC, "old-qa", "sup", None, OLD),
            Thread(SRC, "old-chat", "sup", None, OLD),
            Thread(SRC, "old-open", "sup", None, OLD),
            Thread(SRC, "new-qa", "sup", None, NEW),
            Thread(SRC, "mixed", "sup", "retaincanary-title", OLD),
        ],
        messages=[
            msg(
                "q1",
                "old-qa",
                "ann",
                OLD,
                f"How do I reset the flumox gateway? Mail {ANN_EMAIL}.",
                kind=MessageKind.QUESTION,
            ),
            msg(
                "a1",
                "old-qa",
                "bob",
                OLD + 3 * m,
                f"Press the blue flumox reset switch twice, {ANN}.",
                reply_to_ref="q1",
                reactions={"white_check_mark": 2},
            ),
            msg("k1", "old-qa", "ann", OLD + 9 * m, "Thanks, that worked! retaincanary-thanks", reply_to_ref="a1"),
            msg("c1", "old-qa", "bob", OLD + 20 * m, "Off topic: retaincanary-chat anyone?"),
            msg("l1", "old-chat", "ann", OLD, "Lunch at noon, retaincanary-lunch"),
            msg(
                "o1",
                "old-open",
                "ann",
                OLD,
                "Does anyone know the zorblax retaincanary-open limit?",
                kind=MessageKind.QUESTION,
            ),
            msg("q2", "new-qa", "cleo", NEW, "How do I renew the quintabyte licence?", kind=MessageKind.QUESTION),
            msg(
                "a2",
                "new-qa",
                "bob",
                NEW + 4 * m,
                "Renew the quintabyte licence in the admin portal.",
                reply_to_ref="q2",
                reactions={"white_check_mark": 1},
            ),
            msg("k2", "new-qa", "cleo", NEW + 8 * m, "Thanks, that worked!", reply_to_ref="a2"),
            # A thread that started long ago and is still going: the old part (and the title it gave) goes.
            msg("x1", "mixed", "ann", OLD, "retaincanary-title"),
            msg("x2", "mixed", "cleo", NEW, "Still relevant today."),
        ],
    )


@pytest.fixture
def org(tmp_path: Path) -> tuple[Store, Path]:
    data = tmp_path / "data"
    data.mkdir()
    store = open_store(str(data / "w.db"))
    ingest(store, "test", SRC, [batch()])
    reindex(store, data)
    return store, data


def settings_for(data: Path, days: int = DAYS, keep: bool = True) -> Settings:
    return Settings(db=str(data / "w.db"), data_dir=data, retention_days=days, retention_keep_knowledge=keep)


def files_containing(data: Path, needle: str, under: str = "") -> list[str]:
    root = data / under if under else data
    return [str(f) for f in root.rglob("*") if f.is_file() and needle.lower().encode() in f.read_bytes().lower()]


def messages(store: Store) -> dict[str, tuple[int | None, str]]:
    m = schema.messages
    with store.read() as conn:
        return {e: (a, t) for e, a, t in conn.execute(select(m.c.external_id, m.c.author_id, m.c.text))}


def snapshot(store: Store) -> dict[str, object]:
    qp, t = schema.qa_pairs, schema.threads
    with store.read() as conn:
        pairs = sorted(conn.execute(select(qp.c.question_id, qp.c.asker_id, qp.c.question_text)).all())
        threads = sorted(conn.execute(select(t.c.external_id, t.c.title)).all())
    return {"messages": messages(store), "pairs": pairs, "threads": threads, "counts": store.counts()}


def help_events(store: Store) -> list[object]:
    with store.read() as conn:
        spaces = load_spaces(conn, None)
    return [e for rows in iter_spaces(store, spaces) for e in events_from_space(rows)]


def test_off_by_default_changes_nothing(org: tuple[Store, Path]) -> None:
    store, data = org
    assert Settings().retention_days == 0 and Settings().retention_keep_knowledge is True
    before = snapshot(store)
    result = apply_retention(store, data, settings_for(data, days=0), now=NOW)
    assert result.messages_deleted == 0 and result.cutoff is None
    assert snapshot(store) == before


def test_dry_run_counts_without_deleting(org: tuple[Store, Path]) -> None:
    store, data = org
    before = snapshot(store)
    dry = apply_retention(store, data, settings_for(data), dry_run=True, now=NOW)
    assert snapshot(store) == before
    real = apply_retention(store, data, settings_for(data), now=NOW)
    for key in (
        "messages_deleted",
        "messages_kept_deidentified",
        "qa_pairs_kept",
        "threads_deleted",
        "threads_touched",
    ):
        assert getattr(dry, key) == getattr(real, key), key
    assert real.messages_deleted == 5 and real.messages_kept_deidentified == 2 and real.threads_deleted == 2


def test_keep_knowledge_deidentifies_and_deletes_the_rest(org: tuple[Store, Path]) -> None:
    store, data = org
    before_events = help_events(store)
    assert any(e.at < NOW - timedelta(days=DAYS) for e in before_events)  # type: ignore[attr-defined]
    for needle in CANARIES:
        assert files_containing(data, needle), needle  # the canaries are on disk before
    result = apply_retention(store, data, settings_for(data), now=NOW)
    assert result.qa_pairs_kept == 1 and result.derived["expertise"] == "rebuilt"

    msgs = messages(store)
    assert set(msgs) == {"q1", "a1", "q2", "a2", "k2", "x2"}
    assert msgs["q1"][0] is None and msgs["a1"][0] is None  # no author link
    assert "flumox" in msgs["a1"][1] and ANN not in msgs["a1"][1] and "[erased]" in msgs["a1"][1]
    assert ANN_EMAIL not in msgs["q1"][1]
    assert msgs["q2"][0] is not None and msgs["a2"][0] is not None  # recent messages untouched
    titles = dict(snapshot(store)["threads"])  # type: ignore[arg-type]
    assert titles["mixed"] is None and "old-chat" not in titles  # the title was the deleted first message
    qp, qs, m = schema.qa_pairs, schema.qa_solutions, schema.messages
    with store.read() as conn:
        q1 = conn.execute(select(m.c.id, m.c.author_ref, m.c.reactions).where(m.c.external_id == "q1")).one()
        pair = conn.execute(select(qp.c.asker_id, qp.c.question_text).where(qp.c.question_id == q1.id)).one()
        sols = conn.execute(select(qs.c.solver_id, qs.c.snippet).where(qs.c.question_id == q1.id)).all()
    assert q1.author_ref is None and pair.asker_id is None and ANN_EMAIL not in pair.question_text
    assert sols and all(s.solver_id is None and ANN not in s.snippet for s in sols)

    # Deleted text is gone from the database file, its WAL and the index files; the people's names from the index.
    for needle in CANARIES:
        assert not files_containing(data, needle), needle
    assert not files_containing(data, "oldtimerova", under="index")
    # The knowledge is still found, without a person behind it.
    answer = ask(store, data, "how to reset the flumox gateway", store.viewer(None))
    top = answer.as_dict()["solutions"]
    assert top and "flumox" in json.dumps(top[0]) and ANN not in json.dumps(answer.as_dict())
    assert "retaincanary" not in json.dumps(ask(store, data, "zorblax limit", store.viewer(None)).as_dict())
    # Analytics only count what remains: no help event from before the cutoff, the recent ones unchanged.
    after = help_events(store)
    cutoff = NOW - timedelta(days=DAYS)
    assert all(e.at >= cutoff and e.asked_at >= cutoff for e in after)  # type: ignore[attr-defined]
    recent = [repr(e) for e in before_events if e.at >= cutoff and e.asked_at >= cutoff]  # type: ignore[attr-defined]
    assert recent and sorted(map(repr, after)) == sorted(recent)
    # Running it again changes nothing; a full reindex re-extracts the kept knowledge from what is left.
    again = apply_retention(store, data, settings_for(data), now=NOW)
    assert again.messages_deleted == 0 and again.messages_kept_deidentified == 2
    reindex(store, data)
    assert not files_containing(data, "oldtimerova", under="index")
    rebuilt = ask(store, data, "how to reset the flumox gateway", store.viewer(None)).as_dict()["solutions"]
    assert rebuilt and "flumox reset switch" in rebuilt[0]["solution"] and rebuilt[0]["solved_by"] is None


def test_without_keep_knowledge_the_pairs_go_too(org: tuple[Store, Path]) -> None:
    store, data = org
    result = apply_retention(store, data, settings_for(data, keep=False), now=NOW)
    assert result.messages_deleted == 7 and result.messages_kept_deidentified == 0 and result.threads_deleted == 3
    assert set(messages(store)) == {"q2", "a2", "k2", "x2"}
    for needle in [*CANARIES, "flumox"]:
        assert not files_containing(data, needle), needle
    assert ask(store, data, "how to reset the flumox gateway", store.viewer(None)).as_dict()["solutions"] == []
    assert "quintabyte" in json.dumps(ask(store, data, "renew the quintabyte licence", store.viewer(None)).as_dict())


def test_cli_dry_run_and_json(org: tuple[Store, Path]) -> None:
    store, data = org
    store.close()
    env = {**os.environ, "WHOKNOWS_DATA_DIR": str(data), "WHOKNOWS_RETENTION_DAYS": "3650"}
    cmd = [sys.executable, "-m", "whoknows", "--db", str(data / "w.db"), "retention"]
    off = subprocess.run([*cmd, "--dry-run"], env=env, capture_output=True, text=True, check=True)
    assert "would delete 0 messages" in off.stdout
    env["WHOKNOWS_RETENTION_DAYS"] = "1"  # everything in the test org is older than a day
    dry = json.loads(subprocess.run([*cmd, "--dry-run", "--json"], env=env, capture_output=True, text=True,
                                    check=True).stdout)  # fmt: skip
    assert dry["dry_run"] and dry["messages_deleted"] == 7 and dry["messages_kept_deidentified"] == 4
    assert open_store(str(data / "w.db")).counts()["messages"] == 11
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    assert "deleted 7 messages" in done.stdout and "2 Q&A pairs kept de-identified" in done.stdout
    assert open_store(str(data / "w.db")).counts()["messages"] == 4


def test_on_every_backend(db_url: str, tmp_path: Path) -> None:
    """The same outcome on SQLite and PostgreSQL (no index yet: the store alone)."""
    store = open_store(db_url)
    try:
        ingest(store, "test", SRC, [batch()])
        from whoknows.memory import rebuild_memory

        rebuild_memory(store)
        result = apply_retention(store, tmp_path, settings_for(tmp_path), now=NOW)
        assert (result.messages_deleted, result.messages_kept_deidentified, result.threads_deleted) == (5, 2, 2)
        assert result.derived == {"index": "no index yet"}
        msgs = messages(store)
        assert set(msgs) == {"q1", "a1", "q2", "a2", "k2", "x2"} and msgs["a1"][0] is None and ANN not in msgs["a1"][1]
    finally:
        store.close()
