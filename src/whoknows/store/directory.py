"""Who a viewer may see in the person directory.

A person is visible to a viewer when the organisation lists them (a source's user list: ``schema.directory``),
when they have an account (they are a colleague who signs in), when they are the viewer, or when they appear in
a space the viewer may read (they wrote a message there or are a member of it). Anyone else (an outside contact
seen only in a private mailbox, a DM partner of somebody else) does not exist for that viewer: every lookup
answers exactly as for an unknown person. The system viewer sees everybody.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Connection, select

from whoknows.access import Viewer
from whoknows.store import schema
from whoknows.store.chunking import in_chunks


def visible_people(conn: Connection, person_ids: Collection[int], viewer: Viewer) -> set[int]:
    """The ones of ``person_ids`` that exist and ``viewer`` may see."""
    wanted = {int(i) for i in person_ids}
    if not wanted:
        return set()
    p, d, acc = schema.people, schema.directory, schema.accounts
    out: set[int] = set()
    for part in in_chunks(sorted(wanted)):
        existing = set(conn.execute(select(p.c.id).where(p.c.id.in_(part))).scalars())
        if viewer.spaces is None:
            out |= existing
            continue
        out |= existing & ({viewer.person_id} if viewer.person_id is not None else set())
        rest = sorted(existing - out)
        if rest:
            out |= set(conn.execute(select(d.c.person_id).where(d.c.person_id.in_(rest))).scalars())
            out |= set(conn.execute(select(acc.c.person_id).where(acc.c.person_id.in_(rest))).scalars())
        for pid in sorted(existing - out):
            if _appears_in(conn, pid, viewer.spaces):
                out.add(pid)
    return out


def visible_names(conn: Connection, viewer: Viewer) -> list[str]:
    """The names of every person ``viewer`` may see (:func:`visible_people`, in a few set queries): topic labels
    leave them out, and leaving out only names the reader may know of tells them nothing new."""
    p, d, acc, m, sm = schema.people, schema.directory, schema.accounts, schema.messages, schema.space_members
    if viewer.spaces is None:
        return [str(n) for (n,) in conn.execute(select(p.c.name).where(p.c.name.is_not(None)))]
    ids = set(conn.execute(select(d.c.person_id)).scalars()) | set(conn.execute(select(acc.c.person_id)).scalars())
    if viewer.person_id is not None:
        ids.add(viewer.person_id)
    for part in in_chunks(sorted(viewer.spaces)):
        ids |= set(conn.execute(select(m.c.author_id).where(m.c.space_id.in_(part)).distinct()).scalars())
        ids |= set(conn.execute(select(sm.c.person_id).where(sm.c.space_id.in_(part)).distinct()).scalars())
    ids.discard(None)  # a message without an author
    names: list[str] = []
    for part in in_chunks(sorted(int(i) for i in ids)):
        names += [str(n) for (n,) in conn.execute(select(p.c.name).where(p.c.id.in_(part), p.c.name.is_not(None)))]
    return names


def _appears_in(conn: Connection, person_id: int, spaces: frozenset[int]) -> bool:
    """Whether the person wrote in or is a member of one of ``spaces``."""
    m, sm = schema.messages, schema.space_members
    member = conn.execute(select(sm.c.space_id).where(sm.c.person_id == person_id)).scalars()
    if any(int(s) in spaces for s in member):
        return True
    wrote = conn.execute(select(m.c.space_id).where(m.c.author_id == person_id).distinct()).scalars()
    return any(int(s) in spaces for s in wrote)
