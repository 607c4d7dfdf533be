"""Storing the memory on every backend: rebuild idempotent, incremental update, cascade on message delete."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select

from whoknows.ingest import ingest
from whoknows.memory import rebuild_memory, update_memory
from whoknows.memory.repository import load_pairs
from whoknows.model import Batch, Message, MessageKind, Person, Space, SpaceKind, Thread
from whoknows.store import Store, schema

SRC = "test:mem"
T0 = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)


def _msg(ext: str, thread: str, author: str, minutes: int, text: str, **kw: object) -> Message:
    return Message(SRC, ext, thread, author, T0 + timedelta(minutes=minutes), text, **kw)  # type: ignore[arg-type]


def _batch() -> Batch:
    people = [Person(SRC, p, p.capitalize() + " Doe") for p in ("ann", "bob", "cyd")]
    space = Space(SRC, "s1", SpaceKind.CHANNEL, "#help")
    threads = [Thread(SRC, t, "s1", created_at=T0) for t in ("t1", "t2", "t3")]
    messages = [
        _msg("m1", "t1", "ann", 0, "Does anyone know the discount floor for 3-year deals?", kind=MessageKind.QUESTION),
        _msg("m2", "t1", "bob", 5, "No idea, ask cyd", reply_to_ref="m1"),
        _msg(
            "m3",
            "t1",
            "cyd",
            9,
            "18% for 3-year commits, above that deal desk approves.",
            reply_to_ref="m1",
            reactions={"white_check_mark": 1},
        ),
        _msg("m4", "t1", "ann", 12, "Thanks Cyd, that worked!", reply_to_ref="m3"),
        _msg("m5", "t2", "bob", 0, "Is there a SOC 2 report we can share?"),
        _msg("m6", "t3", "cyd", 0, "Reminder: kickoff on Monday."),
    ]
    return Batch(people=people, spaces=[space], threads=threads, messages=messages)


def _count(store: Store, table: object) -> int:
    with store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def _ids(store: Store) -> dict[str, int]:
    with store.read() as conn:
        return {e: int(i) for e, i in conn.execute(select(schema.messages.c.external_id, schema.messages.c.id))}


def test_rebuild_is_idempotent(store: Store) -> None:
    ingest(store, "test", SRC, [_batch()])
    first = rebuild_memory(store)
    assert (first.threads, first.questions, first.solved) == (3, 2, 1)
    with store.read() as conn:
        before = [(p.question_id, [(s.message_id, s.rank) for s in p.solutions]) for p in load_pairs(conn)]
    second = rebuild_memory(store)
    assert (second.questions, second.solutions) == (first.questions, first.solutions)
    with store.read() as conn:
        after = [(p.question_id, [(s.message_id, s.rank) for s in p.solutions]) for p in load_pairs(conn)]
    assert before == after and _count(store, schema.qa_pairs) == 2
    ids = _ids(store)
    with store.read() as conn:
        [solved] = [p for p in load_pairs(conn) if p.solutions]
    assert solved.question_id == ids["m1"] and solved.solutions[0].message_id == ids["m3"]
    assert solved.solutions[0].signals["thanked_direct"] == 1.0


def test_rebuild_by_space_and_update_by_thread(store: Store) -> None:
    ingest(store, "test", SRC, [_batch()])
    with store.read() as conn:
        space_id = int(conn.execute(select(schema.spaces.c.id)).scalar_one())
        t2 = int(conn.execute(select(schema.threads.c.id).where(schema.threads.c.external_id == "t2")).scalar_one())
    assert rebuild_memory(store, spaces=[space_id + 999]).threads == 0
    assert rebuild_memory(store, spaces=[space_id], since=T0 + timedelta(days=1)).threads == 0
    assert _count(store, schema.qa_pairs) == 0
    # an import adds an answer and thanks to t2: only that thread is recomputed
    more = Batch(
        messages=[
            _msg(
                "m7",
                "t2",
                "cyd",
                20,
                "Yes, the 2025 report is in the trust portal https://trust.example",
                reply_to_ref="m5",
            ),
            _msg("m8", "t2", "bob", 25, "Perfect, thanks @cyd", reply_to_ref="m7"),
        ]
    )
    ingest(store, "test", SRC, [more])
    stats = update_memory(store, [t2])
    assert (stats.threads, stats.questions, stats.solved) == (1, 1, 1)
    with store.read() as conn:
        [pair] = load_pairs(conn)
    assert pair.thread_id == t2 and pair.best is not None and pair.best.message_id == _ids(store)["m7"]


def test_deleting_messages_cascades(store: Store) -> None:
    ingest(store, "test", SRC, [_batch()])
    rebuild_memory(store)
    ids = _ids(store)
    assert _count(store, schema.qa_solutions) == 1
    with store.write() as conn:
        conn.execute(delete(schema.messages).where(schema.messages.c.id == ids["m3"]))
    assert _count(store, schema.qa_solutions) == 0 and _count(store, schema.qa_pairs) == 2
    with store.write() as conn:
        conn.execute(delete(schema.messages).where(schema.messages.c.id == ids["m1"]))
    assert _count(store, schema.qa_pairs) == 1
