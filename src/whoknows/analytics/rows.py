"""Reading what the ledger is derived from: people, and per space the question threads' rows.

The only module of the package that runs SQL. Everything is read per space (a partition, like the memory
rebuild) and handed to the pure functions of :mod:`whoknows.analytics.ledger` as plain row tuples, so the same
derivation can run as a job over an export of the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, select

from whoknows.store import Store, schema
from whoknows.store.chunking import in_chunks


@dataclass(frozen=True, slots=True)
class PersonRow:
    id: int
    name: str
    department: str | None
    team: str | None
    role: str | None
    excluded: bool  # opted out or a bot: never counted anywhere


@dataclass(frozen=True, slots=True)
class SpaceRow:
    id: int
    name: str
    kind: str


@dataclass(frozen=True, slots=True)
class QuestionRow:
    """A question the memory extracted (qa_pairs)."""

    question_id: int
    thread_id: int
    space_id: int
    asker_id: int | None
    created_at: datetime
    text: str


@dataclass(frozen=True, slots=True)
class SolutionRow:
    """A solution the memory chose for a question (qa_solutions joined to its message)."""

    question_id: int
    message_id: int
    solver_id: int | None
    rank: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class MessageRow:
    """A message of a thread that has at least one extracted question."""

    id: int
    thread_id: int
    author_id: int | None
    created_at: datetime
    reply_to_id: int | None
    accepted: bool
    public: bool  # False for a ticket's internal note


@dataclass
class SpaceRows:
    space: SpaceRow
    questions: list[QuestionRow]
    solutions: list[SolutionRow]
    messages: list[MessageRow]


#: The message's ``meta.public`` flag (False only for a ticket's internal note), read in the database: parsing
#: every message's whole JSON in Python cost more than the rest of reading it (1M messages: ~5 s of a report).
_PUBLIC = schema.messages.c.meta["public"].as_boolean()


def utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def load_people(conn: Connection) -> dict[int, PersonRow]:
    p = schema.people
    return {
        int(r.id): PersonRow(
            int(r.id), r.name, r.department or None, r.team or None, r.role, bool(r.opted_out) or bool(r.is_bot)
        )
        for r in conn.execute(select(p.c.id, p.c.name, p.c.department, p.c.team, p.c.role, p.c.opted_out, p.c.is_bot))
    }


def load_spaces(conn: Connection, only: AbstractSet[int] | None) -> list[SpaceRow]:
    s = schema.spaces
    rows = [SpaceRow(int(r.id), r.name, r.kind) for r in conn.execute(select(s.c.id, s.c.name, s.c.kind))]
    return [r for r in rows if only is None or r.id in only]


def load_space(conn: Connection, space: SpaceRow, since: datetime | None = None) -> SpaceRows:
    """The questions, solutions and question-thread messages of one space (questions asked since ``since``)."""
    qp, qs, m = schema.qa_pairs, schema.qa_solutions, schema.messages
    query = select(qp.c.question_id, qp.c.thread_id, qp.c.asker_id, qp.c.created_at, qp.c.question_text).where(
        qp.c.space_id == space.id
    )
    if since is not None:
        query = query.where(qp.c.created_at >= since)
    questions = [
        QuestionRow(int(r[0]), int(r[1]), space.id, _int(r[2]), utc(r[3]), r[4] or "")
        for r in conn.execute(query.order_by(qp.c.created_at, qp.c.question_id))
    ]
    if not questions:
        return SpaceRows(space, [], [], [])
    thread_ids = sorted({q.thread_id for q in questions})
    question_ids = {q.question_id for q in questions}
    solutions: list[SolutionRow] = []
    messages: list[MessageRow] = []
    for chunk in in_chunks(thread_ids, 2_000):
        for r in conn.execute(
            select(qs.c.question_id, qs.c.message_id, qs.c.solver_id, qs.c.rank, m.c.created_at)
            .join(m, m.c.id == qs.c.message_id)
            .join(qp, qp.c.question_id == qs.c.question_id)
            .where(qp.c.thread_id.in_(chunk))
        ):
            if int(r[0]) in question_ids:
                solutions.append(SolutionRow(int(r[0]), int(r[1]), _int(r[2]), int(r[3]), utc(r[4])))
        for r2 in conn.execute(
            select(m.c.id, m.c.thread_id, m.c.author_id, m.c.created_at, m.c.reply_to_id, m.c.accepted, _PUBLIC)
            .where(m.c.thread_id.in_(chunk))
            .order_by(m.c.thread_id, m.c.created_at, m.c.id)
        ):
            public = r2[6] is not False  # absent (None) counts as public
            messages.append(
                MessageRow(int(r2[0]), int(r2[1]), _int(r2[2]), utc(r2[3]), _int(r2[4]), bool(r2[5]), public)
            )
    return SpaceRows(space, questions, solutions, messages)


def iter_spaces(
    store: Store,
    spaces: Iterable[SpaceRow],
    since: datetime | None = None,
    on_read: Callable[[int], None] | None = None,
) -> Iterator[SpaceRows]:
    """The rows of each space that has questions, one read transaction per space; ``on_read(n)`` after the n-th
    space was read (with questions or not)."""
    for n, space in enumerate(spaces, 1):
        with store.read() as conn:
            rows = load_space(conn, space, since)
        if on_read is not None:
            on_read(n)
        if rows.questions:
            yield rows


def thread_external_ids(conn: Connection, thread_ids: Iterable[int]) -> dict[int, str]:
    t = schema.threads
    out: dict[int, str] = {}
    for chunk in in_chunks(sorted(set(thread_ids)), 5_000):
        out.update({int(i): str(e) for i, e in conn.execute(select(t.c.id, t.c.external_id).where(t.c.id.in_(chunk)))})
    return out


def _int(value: object) -> int | None:
    return None if value is None else int(value)  # type: ignore[call-overload]
