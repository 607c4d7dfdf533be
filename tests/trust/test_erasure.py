"""Erasure: after `erase`, the person's strings are nowhere in the database files or the derived index folders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from whoknows.access import Viewer
from whoknows.demo import DemoConfig, load_demo
from whoknows.derive import reindex
from whoknows.erasure import erase_person
from whoknows.errors import InputError, NotFoundError
from whoknows.ingest import ingest
from whoknows.memory.ask import ask
from whoknows.model import Alias, AliasKind, Batch, Message, MessageKind, Person, Space, SpaceKind, Thread
from whoknows.store import Store, open_store, schema

SRC = "test:erasure"
T0 = datetime(2026, 8, 10, 9, 0, tzinfo=UTC)
NAME = "Zyxwv Qwertyuiop"
EMAIL = "zyxwv.qwertyuiop@canary.example"
SECRET = "zqxcanary4711"


def canary_batch() -> Batch:
    return Batch(
        people=[Person(SRC, "z", NAME, aliases=[Alias(AliasKind.EMAIL, EMAIL)]), Person(SRC, "o", "Olga Other")],
        spaces=[Space(SRC, "c", SpaceKind.CHANNEL, "#erasure-test")],
        threads=[Thread(SRC, "t1", "c", None, T0), Thread(SRC, "t2", "c", f"How to {SECRET} setup?", T0)],
        messages=[
            # Someone else's question, answered by the person to erase.
            Message(
                SRC, "q1", "t1", "o", T0, "How do we configure the blorptastic gateway?", kind=MessageKind.QUESTION
            ),
            Message(
                SRC,
                "a1",
                "t1",
                "z",
                T0 + timedelta(minutes=3),
                f"Use the {SECRET} flag on the gateway, {NAME}.",
                reply_to_ref="q1",
                reactions={"white_check_mark": 1},
            ),
            Message(SRC, "k1", "t1", "o", T0 + timedelta(minutes=9), "Thanks, that worked!", reply_to_ref="a1"),
            # The person's own question, answered by someone else.
            Message(SRC, "q2", "t2", "z", T0, f"How to {SECRET} setup for the gateway?", kind=MessageKind.QUESTION),
            Message(
                SRC,
                "a2",
                "t2",
                "o",
                T0 + timedelta(minutes=5),
                "Turn on the gateway switch in settings.",
                reply_to_ref="q2",
                reactions={"white_check_mark": 1},
            ),
        ],
    )


def raw_files(db: Path, data_dir: Path) -> list[Path]:
    files = [p for p in (db, db.with_name(db.name + "-wal")) if p.exists()]
    return files + [p for p in data_dir.rglob("*") if p.is_file() and p != db and "demo-truth" not in p.name]


def leaks(files: list[Path], needles: list[str]) -> list[str]:
    found = []
    for f in files:
        data = f.read_bytes().lower()
        found += [f"{n!r} in {f}" for n in needles if n.lower().encode() in data]
    return found


@pytest.mark.parametrize("policy", ["delete", "anonymise"])
def test_erase_leaves_no_trace(tmp_path: Path, policy: str) -> None:
    db = tmp_path / "w.db"
    store = open_store(str(db))
    load_demo(store, DemoConfig(messages=1500, people=60), truth_path=tmp_path / "truth.json")
    ingest(store, "test", SRC, [canary_batch()])
    reindex(store, tmp_path)
    needles = [NAME, EMAIL, "zyxwv"] + ([SECRET] if policy == "delete" else [])
    # Positive control: before erasure the strings are in the files and the answer is found.
    assert leaks(raw_files(db, tmp_path), needles)
    assert any(
        SECRET in (h.solution or "")
        for h in ask(store, tmp_path, "blorptastic gateway configure", store.viewer(None)).solutions
    )

    result = erase_person(store, tmp_path, EMAIL, policy=policy)  # type: ignore[arg-type]
    assert result.messages == 2 and result.threads_touched == 2
    store.close()
    assert leaks(raw_files(db, tmp_path), needles) == []

    store = open_store(str(db))
    with pytest.raises(NotFoundError):
        store.find_person(EMAIL, Viewer.system())
    with store.read() as conn:
        integrity = conn.exec_driver_sql("PRAGMA integrity_check").scalar()
        others = conn.execute(
            select(func.count()).select_from(schema.messages).where(schema.messages.c.source == SRC)
        ).scalar_one()
    assert integrity == "ok"
    assert others == (3 if policy == "delete" else 5)  # other people's messages stay
    hits = ask(store, tmp_path, "blorptastic gateway configure", store.viewer(None))
    assert not any(SECRET in (h.solution or "") for h in hits.solutions) or policy == "anonymise"
    assert all(h.solved_by is None or h.solved_by.name != NAME for h in hits.solutions + hits.similar)


def test_erase_errors(store: Store, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        erase_person(store, tmp_path, "nobody@nowhere.example")
    with pytest.raises(InputError):
        erase_person(store, tmp_path, "x", policy="shred")  # type: ignore[arg-type]
