"""Answer capture: an expert's answer becomes a message in the corporate memory, credited to the expert.

Where it lives (who may read it): each routed question gets its own **private space** (source
``whoknows:routing``, kind ``qa_site``) whose members are the asker and the experts who answered. The thread
holds the question (author: the asker) and the answers (author: the expert, ``reply_to`` the question), so the
usual Q&A extraction turns them into a solved pair credited to the expert, and ``ask`` finds it for the asker
(and the expert) through the one permission rule. Nobody else reads it: a question asked in private may contain
anything. Acceptance sets the message's ``accepted`` flag, which the extractor treats as the strongest solution
signal, and **shares** the answer as the asker chooses (:func:`share_answer`): by default with the people of the
spaces the question's topic came from (the spaces of memory's citations: a public one makes it public, private
ones add their members), else — no citation — organisation-wide; ``everyone``; or ``private`` (as it was). The
answering expert may object (:func:`unshare_answer`): it is private again. Who may read it is decided at every
read by the one permission rule, so the next colleague's ``ask`` finds it (or stops finding it) at once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select, update

from whoknows.model import MessageKind, SpaceKind, Visibility
from whoknows.store import Store, schema

SOURCE = "whoknows:routing"
SHARES = ("topic", "everyone", "private")


def _space_and_thread(conn: Connection, question: Any, now: datetime) -> tuple[int, int, int]:
    """The private space, thread and question message of a routed question (created on first use)."""
    s, t, m = schema.spaces, schema.threads, schema.messages
    ext = f"q{question.id}"
    space_id = conn.execute(select(s.c.id).where(s.c.source == SOURCE, s.c.external_id == ext)).scalar()
    if space_id is None:
        space_id = _new_private_space(
            conn,
            ext,
            f"whoknows answers #{question.id}",
            "A question routed by whoknows and its answers (asker and answering experts only).",
        )
        _add_member(conn, int(space_id), int(question.asker_id))
        thread_id = conn.execute(
            insert(t)
            .values(
                source=SOURCE,
                external_id=ext,
                space_id=space_id,
                title=question.text[:300],
                created_at=question.created_at,
                meta={},
            )
            .returning(t.c.id)
        ).scalar_one()
        qmsg = conn.execute(
            insert(m)
            .values(
                source=SOURCE,
                external_id=f"{ext}:question",
                thread_id=thread_id,
                space_id=space_id,
                author_id=question.asker_id,
                created_at=question.created_at,
                kind=MessageKind.QUESTION.value,
                text=question.text,
                score=0,
                reactions={},
                accepted=False,
                meta={},
            )
            .returning(m.c.id)
        ).scalar_one()
        return int(space_id), int(thread_id), int(qmsg)
    thread_id = conn.execute(select(t.c.id).where(t.c.source == SOURCE, t.c.external_id == ext)).scalar_one()
    qmsg = conn.execute(select(m.c.id).where(m.c.source == SOURCE, m.c.external_id == f"{ext}:question")).scalar_one()
    return int(space_id), int(thread_id), int(qmsg)


def _new_private_space(conn: Connection, ext: str, name: str, description: str) -> int:
    s = schema.spaces
    return int(
        conn.execute(
            insert(s)
            .values(
                source=SOURCE,
                external_id=ext,
                kind=SpaceKind.QA_SITE.value,
                name=name,
                visibility=Visibility.PRIVATE.value,
                description=description,
                meta={},
            )
            .returning(s.c.id)
        ).scalar_one()
    )


def answering_experts(conn: Connection, question_id: int) -> set[int]:
    """The people who answered the routed question (the ones who, with the asker, may always read it)."""
    ans = schema.route_answers
    rows = conn.execute(select(ans.c.expert_id).where(ans.c.question_id == question_id)).scalars()
    return {int(x) for x in rows if x is not None}


def _add_member(conn: Connection, space_id: int, person_id: int) -> None:
    sm = schema.space_members
    if conn.execute(select(sm.c.space_id).where(sm.c.space_id == space_id, sm.c.person_id == person_id)).first():
        return
    conn.execute(insert(sm).values(space_id=space_id, person_id=person_id))


def store_answer(
    conn: Connection, question: Any, expert_id: int, text: str, answer_key: str, now: datetime
) -> tuple[int, int]:
    """Write the answer message (idempotent per ``answer_key``); returns (message id, thread id)."""
    m = schema.messages
    space_id, thread_id, qmsg = _space_and_thread(conn, question, now)
    _add_member(conn, space_id, expert_id)
    ext = f"q{question.id}:{answer_key}"
    existing = conn.execute(select(m.c.id).where(m.c.source == SOURCE, m.c.external_id == ext)).scalar()
    if existing is not None:
        return int(existing), thread_id
    mid = conn.execute(
        insert(m)
        .values(
            source=SOURCE,
            external_id=ext,
            thread_id=thread_id,
            space_id=space_id,
            author_id=expert_id,
            reply_to_id=qmsg,
            created_at=now,
            kind=MessageKind.ANSWER.value,
            text=text,
            score=1,  # the asker asked this person for it: one vote, so extraction sees a solution candidate
            reactions={},
            accepted=False,
            meta={"routed_question": int(question.id)},
        )
        .returning(m.c.id)
    ).scalar_one()
    return int(mid), thread_id


def _routed_space(conn: Connection, question_id: int) -> Any:
    s = schema.spaces
    return conn.execute(select(s).where(s.c.source == SOURCE, s.c.external_id == f"q{question_id}")).first()


def _set_apart(conn: Connection, question: Any, thread_id: int, keep: set[int]) -> int:
    """Move the thread's messages other than ``keep`` (the question, the accepted answer) into a private space of
    their own, readable by the asker and their authors: sharing the accepted answer shares no one else's."""
    s, t, m = schema.spaces, schema.threads, schema.messages
    rows = conn.execute(select(m.c.id, m.c.author_id).where(m.c.thread_id == thread_id, m.c.id.notin_(keep))).all()
    if not rows:
        return 0
    ext = f"q{question.id}:not-shared"
    space_id = conn.execute(select(s.c.id).where(s.c.source == SOURCE, s.c.external_id == ext)).scalar()
    if space_id is None:
        space_id = _new_private_space(
            conn,
            ext,
            f"whoknows answers #{question.id} (not shared)",
            "The answers to a routed question that its asker did not share.",
        )
    apart = conn.execute(select(t.c.id).where(t.c.source == SOURCE, t.c.external_id == ext)).scalar()
    if apart is None:
        apart = conn.execute(
            insert(t)
            .values(source=SOURCE, external_id=ext, space_id=space_id, title=question.text[:300], meta={})
            .returning(t.c.id)
        ).scalar_one()
    for pid in {int(question.asker_id)} | {int(r.author_id) for r in rows if r.author_id is not None}:
        _add_member(conn, int(space_id), pid)
    ids = [int(r.id) for r in rows]
    conn.execute(update(m).where(m.c.id.in_(ids)).values(space_id=space_id, thread_id=apart, reply_to_id=None))
    return len(ids)


def share_answer(
    conn: Connection, question: Any, share: str, now: datetime, keep_message: int | None = None
) -> dict[str, Any]:
    """Open the routed question's space to the audience ``share`` names (see the module doc); returns it. When
    shared, every answer but ``keep_message`` (the accepted one) is first set apart, still private."""
    s, m, sm = schema.spaces, schema.messages, schema.space_members
    space = _routed_space(conn, int(question.id))
    if space is None:
        return {"share": "private", "with": []}
    cited = [int(c["question_id"]) for c in (question.draft or {}).get("citations", []) if c.get("question_id")]
    topic = sorted({int(x) for x in conn.execute(select(m.c.space_id).where(m.c.id.in_(cited))).scalars()})
    rows = conn.execute(select(s.c.id, s.c.name, s.c.visibility).where(s.c.id.in_(topic))).all() if topic else []
    public = share == "everyone" or (share == "topic" and (not rows or any(r.visibility == "public" for r in rows)))
    shown: list[str] = []
    if share != "private":
        _, thread_id, qmsg = _space_and_thread(conn, question, now)
        _set_apart(conn, question, thread_id, {qmsg} | ({keep_message} if keep_message is not None else set()))
    if share == "private":
        pass
    elif public:
        conn.execute(update(s).where(s.c.id == space.id).values(visibility=Visibility.PUBLIC.value))
        shown = ["everyone"]
    else:
        members = set(conn.execute(select(sm.c.person_id).where(sm.c.space_id.in_([r.id for r in rows]))).scalars())
        for pid in sorted(members):
            _add_member(conn, int(space.id), int(pid))
        shown = [r.name for r in rows]
    meta = dict(space.meta or {})
    meta.update(shared=share, shared_with=shown, shared_at=now.isoformat(), topic_spaces=topic)
    conn.execute(update(s).where(s.c.id == space.id).values(meta=meta))
    return {"share": share, "with": shown}


def unshare_answer(conn: Connection, question: Any, now: datetime) -> dict[str, Any]:
    """Back to private: only the asker and the experts who answered may read the routed question and answers."""
    s, sm = schema.spaces, schema.space_members
    space = _routed_space(conn, int(question.id))
    if space is None:
        return {"share": "private", "with": []}
    keep = {int(question.asker_id)} | answering_experts(conn, int(question.id))
    conn.execute(update(s).where(s.c.id == space.id).values(visibility=Visibility.PRIVATE.value))
    for pid in set(conn.execute(select(sm.c.person_id).where(sm.c.space_id == space.id)).scalars()) - keep:
        conn.execute(sm.delete().where(sm.c.space_id == space.id, sm.c.person_id == pid))
    meta = dict(space.meta or {})
    meta.update(shared="private", shared_with=[], unshared_at=now.isoformat())
    conn.execute(update(s).where(s.c.id == space.id).values(meta=meta))
    return {"share": "private", "with": []}


def mark_accepted(conn: Connection, message_id: int) -> int:
    m = schema.messages
    conn.execute(update(m).where(m.c.id == message_id).values(accepted=True))
    return int(conn.execute(select(m.c.thread_id).where(m.c.id == message_id)).scalar_one())


def refresh_memory(store: Store, data_dir: Path, thread_id: int) -> dict[str, Any]:
    """Re-extract the thread's Q&A pair and bring the memory index in line (skipped when there is no index)."""
    from whoknows.index import SearchIndexError
    from whoknows.memory import update_memory
    from whoknows.memory.memory_index import index_path, open_memory_index, question_ids_of, sync_threads

    with store.read() as conn:
        previous = question_ids_of(conn, [thread_id])
    stats: dict[str, Any] = {"memory": update_memory(store, [thread_id]).as_dict()}
    try:
        index = open_memory_index(store, index_path(data_dir))  # another database's: skipped, not updated
    except SearchIndexError as exc:
        stats["index"] = {"skipped": exc.message}
        return stats
    stats["index"] = sync_threads(store, index, [thread_id], previous)
    return stats


def now_utc() -> datetime:
    return datetime.now(UTC)
