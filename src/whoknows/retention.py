"""Data retention: raw messages older than ``WHOKNOWS_RETENTION_DAYS`` are deleted (0, the default, keeps them).

With ``WHOKNOWS_RETENTION_KEEP_KNOWLEDGE`` (default true) the extracted question→solution pairs of the deleted
conversations survive, de-identified: the question and solution messages they are made of stay as rows without an
author (``author_id``/``author_ref`` cleared, source metadata other than e.g. ``public`` dropped; reaction counts
stay) and with the names, e-mail addresses and handles of the organisation's people replaced by ``[erased]`` (the
same patterns erasure uses); the pairs lose their asker and solvers. Every other old message goes, with threads left
empty (and the title of a thread whose first message goes). Pairs without a solution are raw questions and go too.
With keep-knowledge off, every old message goes and the touched threads are re-extracted from what is left.

Closed routed questions (with their assignments, answers and notifications) last updated before the cutoff go as
well; routed drafts, assignments and notifications that copied a deleted message lose it (:mod:`whoknows.copies`).
Afterwards the memory search index drops or rewrites the touched documents (its files are rewritten), the
expertise model is rebuilt and, on SQLite, the write-ahead log is truncated (``secure_delete`` is on), so deleted
text is gone from the files; analytics and expert finding only see what remains (kept knowledge has nobody to
credit).
"""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from whoknows import copies
from whoknows.erasure import _names_pattern, _rederive, _scrub
from whoknows.settings import Settings
from whoknows.store import Store, schema
from whoknows.store.chunking import in_chunks

M, T, P, A = schema.messages, schema.threads, schema.people, schema.person_aliases
QP, QS = schema.qa_pairs, schema.qa_solutions
ERASED = "[erased]"
_WORD = re.compile(r"[^\W_]{3,}")
#: Routed questions in these states are finished and may go once older than the cutoff.
_FINISHED = ("answered", "closed", "expired")
#: Message metadata that says nothing about people (kept on de-identified knowledge; the rest, e.g. an e-mail's
#: full body, mentions or a source user id, goes).
_NEUTRAL_META = frozenset({"public", "stage", "subtype", "format", "truncated", "truncated_from"})


@dataclass
class RetentionResult:
    days: int
    keep_knowledge: bool
    dry_run: bool
    cutoff: str | None = None
    messages_deleted: int = 0
    messages_kept_deidentified: int = 0
    qa_pairs_kept: int = 0
    qa_pairs_deleted: int = 0
    threads_touched: int = 0
    threads_deleted: int = 0
    routed_questions_deleted: int = 0
    #: Rows of derived copies (routed drafts, assignments, notifications, captured answers) cleaned, per table.
    copies: dict[str, int] = field(default_factory=dict)
    derived: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def apply_retention(
    store: Store, data_dir: Path, settings: Settings, *, dry_run: bool = False, now: datetime | None = None
) -> RetentionResult:
    """Delete what is older than ``settings.retention_days`` (see the module docstring); ``dry_run`` only counts."""
    started = time.perf_counter()
    days, keep = settings.retention_days, settings.retention_keep_knowledge
    result = RetentionResult(days=days, keep_knowledge=keep, dry_run=dry_run)
    if days <= 0:
        return result
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    result.cutoff = cutoff.isoformat()
    if dry_run:
        with store.read() as conn:
            plan = _plan(conn, cutoff, keep, result)
            result.threads_deleted = _threads_left_empty(conn, plan.threads, set(plan.doomed))
        result.seconds = round(time.perf_counter() - started, 2)
        return result
    rq, ob = schema.routed_questions, schema.notification_outbox
    with store.write() as conn:
        plan = _plan(conn, cutoff, keep, result)
        untitled = _started_by(conn, plan.threads, set(plan.doomed))
        # Routed drafts, assignments and notifications that copied the doomed messages (read before they go).
        removal = copies.removal_of(
            conn, plan.doomed, anonymous_pairs=_kept_pairs(conn, plan.kept), rename=_Scrubber(conn) if keep else None
        )
        result.copies = copies.clean(conn, removal)
        for part in in_chunks(plan.doomed):
            conn.execute(delete(M).where(M.c.id.in_(part)))
        for part in in_chunks(untitled):  # a thread's title is its first message's text (or subject): it goes too
            conn.execute(update(T).where(T.c.id.in_(part)).values(title=None))
        conn.execute(delete(rq).where(rq.c.status.in_(_FINISHED), rq.c.updated_at < cutoff))
        conn.execute(delete(ob).where(ob.c.status.in_(("sent", "failed", "dropped")), ob.c.created_at < cutoff))
        empty = [
            t for t in plan.threads if conn.execute(select(M.c.id).where(M.c.thread_id == t).limit(1)).first() is None
        ]
        for part in in_chunks(empty):
            conn.execute(delete(T).where(T.c.id.in_(part)))
        result.threads_deleted = len(empty)
        if plan.kept:
            _deidentify(conn, sorted(plan.kept), sorted(set(plan.threads) - set(empty)))
    if keep:
        result.derived = _resync(store, data_dir, plan.threads, plan.previous)
    else:
        result.derived = _rederive(store, data_dir, plan.threads, plan.previous)
    _scrub(store)
    result.seconds = round(time.perf_counter() - started, 2)
    return result


@dataclass
class _Plan:
    threads: list[int]
    previous: list[int]
    kept: set[int]
    doomed: list[int]


def _plan(conn: Connection, cutoff: datetime, keep: bool, result: RetentionResult) -> _Plan:
    """What goes and what stays (counted into ``result``)."""
    old = [int(i) for i in conn.execute(select(M.c.id).where(M.c.created_at < cutoff)).scalars()]
    threads = _threads_of(conn, old)
    kept = _knowledge_messages(conn, old) if keep else set()
    doomed = [i for i in old if i not in kept]
    rq = schema.routed_questions
    finished = select(func.count()).where(rq.c.status.in_(_FINISHED), rq.c.updated_at < cutoff)
    result.threads_touched = len(threads)
    result.messages_deleted = len(doomed)
    result.messages_kept_deidentified = len(kept)
    result.qa_pairs_kept = len(_kept_pairs(conn, kept))
    result.qa_pairs_deleted = _pairs_losing(conn, set(doomed))
    result.routed_questions_deleted = int(conn.execute(finished).scalar() or 0)
    return _Plan(threads, _question_ids(conn, threads), kept, doomed)


def _threads_of(conn: Connection, ids: list[int]) -> list[int]:
    out: set[int] = set()
    for part in in_chunks(ids):
        out |= {int(t) for t in conn.execute(select(M.c.thread_id).where(M.c.id.in_(part)).distinct()).scalars()}
    return sorted(out)


def _question_ids(conn: Connection, threads: list[int]) -> list[int]:
    from whoknows.memory.memory_index import question_ids_of

    return question_ids_of(conn, threads)


def _knowledge_messages(conn: Connection, old: list[int]) -> set[int]:
    """Old messages that are the question or a solution of a pair with at least one solution."""
    kept: set[int] = set()
    for part in in_chunks(old):
        solved_questions = select(QP.c.question_id).where(QP.c.question_id.in_(part), QP.c.solutions > 0)
        kept |= {int(i) for i in conn.execute(solved_questions).scalars()}
        kept |= {int(i) for i in conn.execute(select(QS.c.message_id).where(QS.c.message_id.in_(part))).scalars()}
    return kept


def _kept_pairs(conn: Connection, kept: set[int]) -> set[int]:
    """Pairs whose question or a solution is among the kept messages (they survive de-identified)."""
    pairs: set[int] = set()
    for part in in_chunks(sorted(kept)):
        pairs |= {int(i) for i in conn.execute(select(QP.c.question_id).where(QP.c.question_id.in_(part))).scalars()}
        pairs |= {int(i) for i in conn.execute(select(QS.c.question_id).where(QS.c.message_id.in_(part))).scalars()}
    return pairs


def _pairs_losing(conn: Connection, doomed: set[int]) -> int:
    """Pairs whose question message is deleted (the rows cascade)."""
    n = 0
    for part in in_chunks(sorted(doomed)):
        n += int(conn.execute(select(func.count()).where(QP.c.question_id.in_(part))).scalar() or 0)
    return n


def _started_by(conn: Connection, threads: list[int], doomed: set[int]) -> list[int]:
    """Threads whose first message is deleted."""
    out = []
    for tid in threads:
        first = conn.execute(select(M.c.id).where(M.c.thread_id == tid).order_by(M.c.created_at, M.c.id).limit(1))
        if first.scalar() in doomed:
            out.append(tid)
    return out


def _threads_left_empty(conn: Connection, threads: list[int], doomed: set[int]) -> int:
    n = 0
    for tid in threads:
        ids = set(conn.execute(select(M.c.id).where(M.c.thread_id == tid)).scalars())
        n += ids <= doomed
    return n


class _Scrubber:
    """Replaces the names, e-mail addresses and handles of the organisation's people with ``[erased]``.

    One erasure pattern per person (:func:`whoknows.erasure._names_pattern`), applied only to texts that contain
    one of that person's name words, so that thousands of people cost a dictionary look-up per word."""

    def __init__(self, conn: Connection) -> None:
        names: dict[int, list[str]] = defaultdict(list)
        for pid, name in conn.execute(select(P.c.id, P.c.name)):
            names[int(pid)].append(name)
        aliases: dict[int, list[str]] = defaultdict(list)
        for pid, kind, value in conn.execute(select(A.c.person_id, A.c.kind, A.c.value)):
            if kind != "external":
                aliases[int(pid)].append(value)
        self._people = {pid: (ns[0], aliases.get(pid, [])) for pid, ns in names.items()}
        self._by_word: dict[str, set[int]] = defaultdict(set)
        for pid, (name, als) in self._people.items():
            for word in _WORD.findall(" ".join([name, *als]).lower()):
                self._by_word[word].add(pid)
        self._patterns: dict[int, re.Pattern[str] | None] = {}

    def __call__(self, text: str) -> str:
        if not text:
            return text
        candidates = set().union(*(self._by_word.get(w, set()) for w in set(_WORD.findall(text.lower()))))
        for pid in sorted(candidates):
            pattern = self._pattern(pid)
            if pattern is not None:
                text = pattern.sub(ERASED, text)
        return text

    def _pattern(self, pid: int) -> re.Pattern[str] | None:
        if pid not in self._patterns:
            name, als = self._people[pid]
            pattern = _names_pattern(name, als)
            self._patterns[pid] = pattern if pattern.pattern else None  # nothing of 3+ characters to look for
        return self._patterns[pid]

    def json(self, value: Any) -> Any:
        try:
            return json.loads(self(json.dumps(value, ensure_ascii=False)))
        except ValueError:
            return {}


def _deidentify(conn: Connection, kept: list[int], threads: list[int]) -> None:
    """Strip the people from the kept knowledge: messages, their pairs and solutions, the remaining threads."""
    scrub = _Scrubber(conn)
    for part in in_chunks(kept):
        for mid, text, meta in conn.execute(select(M.c.id, M.c.text, M.c.meta).where(M.c.id.in_(part))).all():
            kept_meta = {k: v for k, v in (meta or {}).items() if k in _NEUTRAL_META}
            values = {"author_id": None, "author_ref": None, "text": scrub(text), "meta": kept_meta}
            conn.execute(update(M).where(M.c.id == mid).values(**values))
        for qid, question in conn.execute(
            select(QP.c.question_id, QP.c.question_text).where(QP.c.question_id.in_(part))
        ):
            conn.execute(update(QP).where(QP.c.question_id == qid).values(asker_id=None, question_text=scrub(question)))
        rows = conn.execute(select(QS.c.question_id, QS.c.message_id, QS.c.snippet).where(QS.c.message_id.in_(part)))
        for qid, mid, snippet in rows.all():
            conn.execute(
                update(QS)
                .where(QS.c.question_id == qid, QS.c.message_id == mid)
                .values(solver_id=None, snippet=scrub(snippet))
            )
    for tid, title, meta in conn.execute(select(T.c.id, T.c.title, T.c.meta).where(T.c.id.in_(threads))).all():
        conn.execute(update(T).where(T.c.id == tid).values(title=scrub(title or "") or None, meta=scrub.json(meta)))


def _resync(store: Store, data_dir: Path, threads: list[int], previous: list[int]) -> dict[str, Any]:
    """Keep-knowledge: the pairs are not re-extracted (their signals were in the deleted messages); the index drops
    the deleted pairs and rewrites the de-identified ones, the expertise model is rebuilt."""
    from whoknows.derive import resync

    return resync(store, data_dir, threads, previous)
