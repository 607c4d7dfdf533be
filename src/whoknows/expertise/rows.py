"""Reading the store for expertise derivation: messages streamed thread by thread, in bounded batches.

This is the only module of :mod:`whoknows.expertise` that reads message rows in bulk; everything downstream is a
pure function of the batches it yields, so the derivation can run as partitioned jobs over an export of the store
(partition key: thread, since every derived fact looks at one thread only).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, inspect, select

from whoknows.store import Store, schema
from whoknows.store.chunking import in_chunks


@dataclass(frozen=True, slots=True)
class MessageRow:
    id: int
    thread_id: int
    space_id: int
    author_id: int | None
    kind: str
    time: float  # epoch seconds
    text: str
    score: int
    reactions: dict[str, int]
    accepted: bool
    reply_to_id: int | None


def epoch(value: datetime | None) -> float:
    if value is None:
        return float("nan")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def iter_threads(
    store: Store, *, until: datetime | None = None, batch_messages: int = 20_000
) -> Iterator[list[list[MessageRow]]]:
    """Batches of whole threads (each a list of its messages in time order), about ``batch_messages`` rows each.

    ``until`` keeps only messages created before that time (used to build a model "as of" a date).
    """
    m = schema.messages
    query = select(
        m.c.id,
        m.c.thread_id,
        m.c.space_id,
        m.c.author_id,
        m.c.kind,
        m.c.created_at,
        m.c.text,
        m.c.score,
        m.c.reactions,
        m.c.accepted,
        m.c.reply_to_id,
    ).order_by(m.c.thread_id, m.c.created_at, m.c.id)
    if until is not None:
        query = query.where(m.c.created_at < until)
    batch: list[list[MessageRow]] = []
    current: list[MessageRow] = []
    n = 0
    with store.read() as conn:
        for r in conn.execution_options(yield_per=5_000).execute(query):
            row = MessageRow(
                int(r.id),
                int(r.thread_id),
                int(r.space_id),
                None if r.author_id is None else int(r.author_id),
                str(r.kind),
                epoch(r.created_at),
                r.text or "",
                int(r.score or 0),
                _reactions(r.reactions),
                bool(r.accepted),
                None if r.reply_to_id is None else int(r.reply_to_id),
            )
            if current and current[0].thread_id != row.thread_id:
                batch.append(current)
                current = []
                if n >= batch_messages:
                    yield batch
                    batch, n = [], 0
            current.append(row)
            n += 1
    if current:
        batch.append(current)
    if batch:
        yield batch


def _reactions(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        return {}
    out: dict[str, int] = {}
    for k, v in value.items():
        try:
            out[str(k)] = int(v)
        except (TypeError, ValueError):
            continue
    return out


@dataclass(frozen=True, slots=True)
class PersonRow:
    id: int
    name: str
    department: str | None
    opted_out: bool
    is_bot: bool
    role: str | None = None  # job title
    team: str | None = None


def people(store: Store, ids: Sequence[int] | None = None) -> dict[int, PersonRow]:
    """Current people rows (all, or those of ``ids``): the live check for erased, merged and opted-out people."""
    out: dict[int, PersonRow] = {}
    with store.read() as conn:
        if ids is None:
            rows = list(conn.execute(_PEOPLE))
        else:
            rows = []
            for part in in_chunks(sorted(set(ids))):
                rows.extend(conn.execute(_PEOPLE_IN, {"ids": list(part)}))
    for r in rows:
        out[int(r.id)] = PersonRow(
            int(r.id), r.name, r.department, bool(r.opted_out), bool(r.is_bot), r.role or None, r.team or None
        )
    return out


def space_kinds(store: Store) -> dict[int, str]:
    s = schema.spaces
    with store.read() as conn:
        return {int(i): str(k) for i, k in conn.execute(select(s.c.id, s.c.kind))}


def public_spaces(store: Store) -> set[int]:
    return set(store.viewer(None).spaces or ())


def fingerprint(store: Store) -> dict[str, int]:
    """What a model was built from: changes when messages, people, merges or opt-outs change."""
    m, p, pm = schema.messages, schema.people, schema.person_merges
    with store.read() as conn:
        n_msg, max_msg = conn.execute(select(func.count(), func.coalesce(func.max(m.c.id), 0))).one()
        n_people, max_person = conn.execute(select(func.count(), func.coalesce(func.max(p.c.id), 0))).one()
        opted = conn.execute(select(func.count()).where(p.c.opted_out.is_(True))).scalar_one()
        merges = (
            conn.execute(select(func.count()).select_from(pm)).scalar_one() if inspect(conn).has_table(pm.name) else 0
        )
    return {
        "messages": int(n_msg),
        "max_message_id": int(max_msg),
        "people": int(n_people),
        "max_person_id": int(max_person),
        "opted_out": int(opted),
        "merges": int(merges),
    }


def message_texts(store: Store, ids: Sequence[int]) -> dict[int, tuple[str, str | None, int, int]]:
    """``id -> (text, url or thread url, space id, thread id)`` for the messages that still exist."""
    out: dict[int, tuple[str, str | None, int, int]] = {}
    with store.read() as conn:
        for part in in_chunks(sorted(set(ids))):
            for r in conn.execute(_TEXTS_IN, {"ids": list(part)}):
                out[int(r.id)] = (r.text or "", r.url or r.turl, int(r.space_id), int(r.thread_id))
    return out


def _statements() -> tuple[Select[Any], Select[Any], Select[Any]]:
    """The reads made on every question, built once (building a statement costs about as much as running it)."""
    p, m, t = schema.people, schema.messages, schema.threads
    ids: Any = bindparam("ids", expanding=True)
    everyone = select(p.c.id, p.c.name, p.c.department, p.c.opted_out, p.c.is_bot, p.c.role, p.c.team)
    texts = (
        select(m.c.id, m.c.text, m.c.url, t.c.url.label("turl"), m.c.space_id, m.c.thread_id)
        .join(t, t.c.id == m.c.thread_id)
        .where(m.c.id.in_(ids))
    )
    return everyone, everyone.where(p.c.id.in_(ids)), texts


_PEOPLE, _PEOPLE_IN, _TEXTS_IN = _statements()
