"""``whoknows status`` shows the memory: questions, those with a solution and their share, per source and in total."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from whoknows.ingest import ingest
from whoknows.memory import rebuild_memory
from whoknows.model import Batch, Message, MessageKind, Person, Space, SpaceKind, Thread
from whoknows.store import open_store

SOLVED_SRC, OPEN_SRC = "test:solved", "test:open"
T0 = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)


def _batch(src: str, *, answered: bool) -> Batch:
    def msg(ext: str, thread: str, author: str, minutes: int, text: str, **kw: object) -> Message:
        return Message(src, ext, thread, author, T0 + timedelta(minutes=minutes), text, **kw)  # type: ignore[arg-type]

    people = [Person(src, p, p.capitalize() + " Doe") for p in ("ann", "bob", "cyd")]
    threads = [Thread(src, t, "s1", created_at=T0) for t in ("t1", "t2", "t3")]
    messages = [
        msg("m1", "t1", "ann", 0, "Does anyone know the discount floor for 3-year deals?", kind=MessageKind.QUESTION),
        msg("m5", "t2", "bob", 0, "Is there a SOC 2 report we can share with a prospect?", kind=MessageKind.QUESTION),
        msg("m6", "t3", "cyd", 0, "Reminder: kickoff on Monday."),
    ]
    if answered:
        messages += [
            msg(
                "m3",
                "t1",
                "cyd",
                9,
                "18% for 3-year commits, above that deal desk approves.",
                reply_to_ref="m1",
                reactions={"white_check_mark": 1},
            ),
            msg("m4", "t1", "ann", 12, "Thanks Cyd, that worked!", reply_to_ref="m3"),
        ]
    return Batch(people=people, spaces=[Space(src, "s1", SpaceKind.CHANNEL, "#help")], threads=threads,
                 messages=messages)  # fmt: skip


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "whoknows", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "160"})  # fmt: skip


def test_status_counts_questions_and_solutions_per_source(tmp_path: Path) -> None:
    db = tmp_path / "two.db"
    store = open_store(db)
    ingest(store, "test", SOLVED_SRC, [_batch(SOLVED_SRC, answered=True)])
    ingest(store, "test", OPEN_SRC, [_batch(OPEN_SRC, answered=False)])
    built = rebuild_memory(store)
    assert (built.questions, built.solved) == (4, 1)

    report = store.status()
    assert report.memory == {"questions": 4, "solved": 1, "solved_share": 0.25}
    rows = {r["source"]: r for r in report.sources}
    assert (rows[SOLVED_SRC]["questions"], rows[SOLVED_SRC]["solved"], rows[SOLVED_SRC]["solved_share"]) == (2, 1, 0.5)
    assert (rows[OPEN_SRC]["questions"], rows[OPEN_SRC]["solved"], rows[OPEN_SRC]["solved_share"]) == (2, 0, 0.0)

    proc = _cli("--db", str(db), "status", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["memory"] == {"questions": 4, "solved": 1, "solved_share": 0.25}
    shown = {r["source"]: (r["questions"], r["solved"]) for r in data["sources"]}
    assert shown == {SOLVED_SRC: (2, 1), OPEN_SRC: (2, 0)}

    table = _cli("--db", str(db), "status")
    assert table.returncode == 0, table.stderr
    assert "memory: 4 questions, 1 with a solution (25%)" in table.stdout
    solved_line = next(line for line in table.stdout.splitlines() if SOLVED_SRC in line)
    open_line = next(line for line in table.stdout.splitlines() if OPEN_SRC in line)
    assert [c.strip() for c in solved_line.split("│")[3:6]] == ["2", "1", "50%"]  # questions, solved, share
    assert [c.strip() for c in open_line.split("│")[3:6]] == ["2", "0", "0%"]


def test_status_of_a_database_without_memory(tmp_path: Path) -> None:
    store = open_store(tmp_path / "empty.db")
    ingest(store, "test", OPEN_SRC, [_batch(OPEN_SRC, answered=False)])
    report = store.status()
    assert report.memory == {"questions": 0, "solved": 0, "solved_share": None}
    assert report.sources[0]["questions"] == 0 and report.sources[0]["solved_share"] is None
    table = _cli("--db", str(tmp_path / "empty.db"), "status")
    assert table.returncode == 0, table.stderr
    assert "memory: 0 questions, 0 with a solution (–)" in table.stdout
