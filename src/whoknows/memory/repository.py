"""The memory's storage: reading threads from the store in partitions, writing derived Q&A rows.

Everything here is SQLAlchemy Core and runs on SQLite and PostgreSQL alike. Extraction itself stays pure
(:mod:`whoknows.memory.extract`); this module only turns rows into :class:`ThreadInput` and pairs back into
rows. Writes replace the derived rows of exactly the threads they cover, so a rebuild is idempotent and a
partition (a space, a time window, a list of threads) can be recomputed on its own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from whoknows.memory.types import Post, QAPair, Solution, ThreadInput
from whoknows.memory.weights import CHAT, DEFAULT, SolutionModel
from whoknows.store import schema
from whoknows.store.chunking import in_chunks

EXTRACTOR_VERSION = "qa-1"


def extractor_label(model: SolutionModel | None) -> str:
    """Which extractor wrote a pair: the version and the model (``None``: the per-thread choice of
    :func:`whoknows.memory.weights.model_for`)."""
    if model is None:
        return f"{EXTRACTOR_VERSION}:{DEFAULT.fitted_on}|chat:{CHAT.fitted_on}"[:100]
    return f"{EXTRACTOR_VERSION}:{model.fitted_on or 'custom'}"[:100]


def thread_ids_in(
    conn: Connection,
    space_id: int,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[int]:
    """The threads of one space (optionally those created in ``[since, until)``), in id order."""
    t = schema.threads
    query = select(t.c.id).where(t.c.space_id == space_id)
    if since is not None:
        query = query.where(t.c.created_at >= since)
    if until is not None:
        query = query.where(t.c.created_at < until)
    return [int(i) for i in conn.execute(query.order_by(t.c.id)).scalars()]


def space_ids(conn: Connection, only: Iterable[int] | None = None) -> list[int]:
    s = schema.spaces
    query = select(s.c.id).order_by(s.c.id)
    if only is not None:
        query = query.where(s.c.id.in_(list(only)))
    return [int(i) for i in conn.execute(query).scalars()]


def load_threads(conn: Connection, thread_ids: Sequence[int]) -> list[ThreadInput]:
    """The threads ``thread_ids`` with their posts, ready for extraction (threads without messages omitted)."""
    if not thread_ids:
        return []
    m, p, t, s = schema.messages, schema.people, schema.threads, schema.spaces
    heads = {
        int(r.id): r
        for r in conn.execute(
            select(t.c.id, t.c.space_id, t.c.title, s.c.kind)
            .join(s, s.c.id == t.c.space_id)
            .where(t.c.id.in_(list(thread_ids)))
        )
    }
    rows = conn.execute(
        select(
            m.c.id,
            m.c.thread_id,
            m.c.author_id,
            m.c.created_at,
            m.c.text,
            m.c.kind,
            m.c.reply_to_id,
            m.c.score,
            m.c.reactions,
            m.c.accepted,
            p.c.name,
            p.c.department,
            p.c.is_bot,
        )
        .outerjoin(p, p.c.id == m.c.author_id)
        .where(m.c.thread_id.in_(list(thread_ids)))
        .order_by(m.c.thread_id, m.c.created_at, m.c.id)
    ).all()
    handles = _handles(conn, {int(r.author_id) for r in rows if r.author_id is not None})
    posts: dict[int, list[Post]] = defaultdict(list)
    for r in rows:
        names = _names(r.name, handles.get(int(r.author_id), ())) if r.author_id is not None else ()
        posts[int(r.thread_id)].append(
            Post(
                id=int(r.id),
                author_id=int(r.author_id) if r.author_id is not None else None,
                created_at=r.created_at,
                text=r.text or "",
                kind=r.kind,
                reply_to_id=int(r.reply_to_id) if r.reply_to_id is not None else None,
                score=int(r.score or 0),
                reactions=dict(r.reactions or {}),
                accepted=bool(r.accepted),
                author_names=names,
                author_department=r.department,
                author_is_bot=bool(r.is_bot),
            )
        )
    return [
        ThreadInput(
            thread_id=tid,
            space_id=int(heads[tid].space_id),
            posts=tuple(posts[tid]),
            title=heads[tid].title,
            space_kind=heads[tid].kind,
        )
        for tid in thread_ids
        if tid in heads and posts.get(tid)
    ]


def _handles(conn: Connection, person_ids: set[int]) -> dict[int, tuple[str, ...]]:
    if not person_ids:
        return {}
    a = schema.person_aliases
    out: dict[int, list[str]] = defaultdict(list)
    for pid, value in conn.execute(
        select(a.c.person_id, a.c.value).where(a.c.person_id.in_(list(person_ids)), a.c.kind == "handle")
    ):
        out[int(pid)].append(str(value))
    return {k: tuple(v) for k, v in out.items()}


def _names(name: str | None, handles: tuple[str, ...]) -> tuple[str, ...]:
    """How an author may be addressed: full name, first name, handles (with a ``team:`` prefix removed)."""
    out: list[str] = []
    if name:
        full = " ".join(name.lower().split())
        out.append(full)
        first = full.split(" ", 1)[0]
        if len(first) >= 3:
            out.append(first)
    for h in handles:
        h = h.lower().lstrip("@")
        out.append(h.rsplit(":", 1)[-1])
    return tuple(dict.fromkeys(n for n in out if n))


def replace_pairs(conn: Connection, thread_ids: Sequence[int], pairs: Sequence[QAPair], extractor: str) -> int:
    """Replace the derived rows of ``thread_ids`` with ``pairs``; returns the number of solutions written."""
    qp, qs = schema.qa_pairs, schema.qa_solutions
    ids = list(thread_ids)
    if ids:
        conn.execute(delete(qs).where(qs.c.question_id.in_(select(qp.c.question_id).where(qp.c.thread_id.in_(ids)))))
        conn.execute(delete(qp).where(qp.c.thread_id.in_(ids)))
    if not pairs:
        return 0
    now = datetime.now(UTC)
    conn.execute(
        insert(qp),
        [
            {
                "question_id": pair.question_id,
                "thread_id": pair.thread_id,
                "space_id": pair.space_id,
                "asker_id": pair.asker_id,
                "created_at": pair.created_at,
                "question_text": pair.question_text,
                "confidence": pair.question_confidence,
                "signals": pair.question_signals,
                "solutions": len(pair.solutions),
                "best_confidence": pair.solutions[0].confidence if pair.solutions else None,
                "extractor": extractor,
                "extracted_at": now,
            }
            for pair in pairs
        ],
    )
    solutions = [
        {
            "question_id": pair.question_id,
            "message_id": sol.message_id,
            "rank": sol.rank,
            "confidence": sol.confidence,
            "solver_id": sol.solver_id,
            "snippet": sol.snippet,
            "signals": sol.signals,
        }
        for pair in pairs
        for sol in pair.solutions
    ]
    if solutions:
        conn.execute(insert(qs), solutions)
    return len(solutions)


def load_pairs(
    conn: Connection,
    *,
    thread_ids: Sequence[int] | None = None,
    space_ids: Sequence[int] | None = None,
    limit: int | None = None,
) -> list[QAPair]:
    """Stored pairs (with their solutions, best first), newest question first."""
    qp, qs = schema.qa_pairs, schema.qa_solutions
    query = select(qp)
    if thread_ids is not None:
        query = query.where(qp.c.thread_id.in_(list(thread_ids)))
    if space_ids is not None:
        query = query.where(qp.c.space_id.in_(list(space_ids)))
    query = query.order_by(qp.c.created_at.desc(), qp.c.question_id.desc())
    if limit is not None:
        query = query.limit(limit)
    heads = conn.execute(query).mappings().all()
    sols: dict[int, list[Solution]] = defaultdict(list)
    qids = [int(h["question_id"]) for h in heads]
    for part in in_chunks(qids):
        for r in conn.execute(
            select(qs).where(qs.c.question_id.in_(part)).order_by(qs.c.question_id, qs.c.rank)
        ).mappings():
            sols[int(r["question_id"])].append(_solution(r))
    return [_pair(h, sols.get(int(h["question_id"]), [])) for h in heads]


def _solution(r: Any) -> Solution:
    return Solution(
        message_id=int(r["message_id"]),
        solver_id=int(r["solver_id"]) if r["solver_id"] is not None else None,
        confidence=float(r["confidence"]),
        rank=int(r["rank"]),
        snippet=r["snippet"],
        signals=dict(r["signals"] or {}),
    )


def _pair(h: Any, solutions: list[Solution]) -> QAPair:
    return QAPair(
        question_id=int(h["question_id"]),
        thread_id=int(h["thread_id"]),
        space_id=int(h["space_id"]),
        asker_id=int(h["asker_id"]) if h["asker_id"] is not None else None,
        created_at=h["created_at"],
        question_text=h["question_text"],
        question_confidence=float(h["confidence"]),
        question_signals=dict(h["signals"] or {}),
        solutions=tuple(solutions),
    )
