"""Erasing a person: their identity, their messages (or their name on them), and everything derived from them.

Two policies:

* ``delete`` (default): the person's messages are deleted, with the Q&A pairs and solutions extracted from them,
  the routed questions they asked and the answers they gave; threads they started lose their title (it was
  their text). Replies by others stay.
* ``anonymise``: the messages stay as organisational knowledge but lose their author (``author_id`` and
  ``author_ref`` cleared, and the person's name, e-mail and handles in their own text replaced by ``[erased]``);
  everything else that names the person goes.

In both cases the person row, aliases, memberships, merges, routing preferences and outcomes go (foreign keys
cascade), every derived copy of their words or name listed in :mod:`whoknows.copies` is cleaned (routed drafts,
candidates, notifications, captured answers); the memory of every touched thread is re-extracted and the search
index drops the erased documents (its files are rewritten); the expertise model is rebuilt. On SQLite every
connection has ``secure_delete`` on and erasure ends with a WAL checkpoint, so the erased text is not left in free
pages or the write-ahead log; on PostgreSQL the tables of :func:`whoknows.copies.tables` are vacuumed. Mentions
of the person inside *other* people's messages are theirs and stay.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, delete, select, update

from whoknows import copies
from whoknows.access import Viewer
from whoknows.errors import InputError
from whoknows.store import Store, schema
from whoknows.store.chunking import in_chunks

Policy = Literal["delete", "anonymise"]
M, T, P = schema.messages, schema.threads, schema.people


@dataclass
class ErasureResult:
    person_id: int
    name: str
    policy: str
    messages: int
    threads_touched: int
    #: Rows of derived copies (routed drafts, assignments, notifications, captured answers) cleaned, per table.
    copies: dict[str, int] = field(default_factory=dict)
    derived: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def erase_person(store: Store, data_dir: Path, person_ref: str, *, policy: Policy = "delete") -> ErasureResult:
    """Erase ``person_ref`` (e-mail, @handle, name or #id) under ``policy`` and update what was derived."""
    if policy not in ("delete", "anonymise"):
        raise InputError(f"unknown erasure policy {policy!r}; use 'delete' or 'anonymise'", code="erase.policy")
    started = time.perf_counter()
    person = store.find_person(person_ref, Viewer.system())
    assert person.id is not None
    pid = person.id
    with store.write() as conn:
        threads = sorted(set(conn.execute(select(M.c.thread_id).where(M.c.author_id == pid)).scalars()))
        previous = _question_ids(conn, threads)
        ids = list(conn.execute(select(M.c.id).where(M.c.author_id == pid)).scalars())
        pattern = _names_pattern(person.name, [a.value for a in person.aliases if a.kind.value != "external"])
        removal = copies.removal_of(
            conn,
            ids if policy == "delete" else [],
            person_id=pid,
            name=person.name,
            rename=lambda text: pattern.sub("[erased]", text) if pattern.pattern else text,
            own_words=policy == "delete",
        )
        cleaned = copies.clean(conn, removal)  # while the messages the copies came from are still there
        if policy == "delete":
            started_threads = _threads_started_by(conn, pid, threads)
            for part in in_chunks(ids):
                conn.execute(delete(M).where(M.c.id.in_(part)))
            if started_threads:
                conn.execute(update(T).where(T.c.id.in_(started_threads)).values(title=None))
        else:
            for part in in_chunks(ids):
                for mid, text in conn.execute(select(M.c.id, M.c.text).where(M.c.id.in_(part))).all():
                    conn.execute(
                        update(M)
                        .where(M.c.id == mid)
                        .values(author_id=None, author_ref=None, text=pattern.sub("[erased]", text))
                    )
        conn.execute(delete(P).where(P.c.id == pid))
    derived = _rederive(store, data_dir, threads, previous)
    _scrub(store)
    return ErasureResult(
        person_id=pid,
        name=person.name,
        policy=policy,
        messages=len(ids),
        threads_touched=len(threads),
        copies=cleaned,
        derived=derived,
        seconds=round(time.perf_counter() - started, 2),
    )


def _names_pattern(name: str, aliases: list[str]) -> re.Pattern[str]:
    """The person's full name and aliases (e-mail, handles), as they may appear in their own messages."""
    words = sorted({w for w in [name, *aliases] if len(w) >= 3}, key=len, reverse=True)
    variants = set(words) | {w.replace("_", " ") for w in words} | {w.replace(".", " ") for w in words}
    return re.compile("|".join(re.escape(v) for v in sorted(variants, key=len, reverse=True)), re.IGNORECASE)


def _question_ids(conn: Connection, threads: list[int]) -> list[int]:
    from whoknows.memory.memory_index import question_ids_of

    return question_ids_of(conn, threads)


def _threads_started_by(conn: Connection, pid: int, threads: list[int]) -> list[int]:
    """Threads whose first message is the person's (their title is the person's text)."""
    out = []
    for tid in threads:
        first = conn.execute(
            select(M.c.author_id).where(M.c.thread_id == tid).order_by(M.c.created_at, M.c.id).limit(1)
        ).scalar()
        if first == pid:
            out.append(tid)
    return out


def _rederive(store: Store, data_dir: Path, threads: list[int], previous: list[int]) -> dict[str, Any]:
    from whoknows.derive import resync
    from whoknows.memory import update_memory

    with store.read() as conn:
        existing = set(conn.execute(select(T.c.id).where(T.c.id.in_(threads))).scalars()) if threads else set()
    return {"memory": update_memory(store, sorted(existing)).as_dict(), **resync(store, data_dir, threads, previous)}


def _scrub(store: Store) -> None:
    """Make sure erased rows do not survive in the database files."""
    if store.backend == "sqlite":
        raw = store.engine.raw_connection()
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
    else:
        with store.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            for table in copies.tables():
                conn.exec_driver_sql(f"VACUUM {table}")
