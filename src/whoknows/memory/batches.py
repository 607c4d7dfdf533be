"""Extraction input straight from importer batches (no database): for benchmarks and for running
extraction as a job over an export. Ids are the sources' external ids."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from whoknows.memory.types import Post, ThreadInput
from whoknows.model import Batch, Message, Person


def threads_from_batches(batches: Iterable[Batch], *, hide_accepted: bool = False) -> list[ThreadInput]:
    """Every thread of ``batches`` as a :class:`ThreadInput` (``hide_accepted`` clears the accepted flags)."""
    people: dict[str, Person] = {}
    thread_space: dict[str, str] = {}
    titles: dict[str, str | None] = {}
    messages: dict[str, list[Message]] = defaultdict(list)
    space_kinds: dict[str, str] = {}
    for batch in batches:
        for p in batch.people:
            people[p.external_id] = p
        for s in batch.spaces:
            space_kinds[s.external_id] = s.kind.value
        for t in batch.threads:
            thread_space[t.external_id] = t.space_ref
            titles[t.external_id] = t.title
        for m in batch.messages:
            messages[m.thread_ref].append(m)
    out: list[ThreadInput] = []
    for ref, msgs in messages.items():
        space = thread_space.get(ref)
        out.append(
            ThreadInput(
                thread_id=ref,
                space_id=space,
                posts=tuple(_post(m, people.get(m.author_ref or ""), hide_accepted) for m in msgs),
                title=titles.get(ref),
                space_kind=space_kinds.get(space or ""),
            )
        )
    return out


def _post(m: Message, author: Person | None, hide_accepted: bool) -> Post:
    names: tuple[str, ...] = ()
    if author is not None:
        full = " ".join(author.name.lower().split())
        first = full.split(" ", 1)[0]
        handles = [a.value.lower().lstrip("@").rsplit(":", 1)[-1] for a in author.aliases if a.kind.value == "handle"]
        names = tuple(dict.fromkeys(n for n in (full, first if len(first) >= 3 else "", *handles) if n))
    return Post(
        id=m.external_id,
        author_id=m.author_ref,
        created_at=m.created_at,
        text=m.text,
        kind=m.kind.value,
        reply_to_id=m.reply_to_ref,
        score=m.score,
        reactions=dict(m.reactions),
        accepted=False if hide_accepted else m.accepted,
        author_names=names,
        author_department=author.department if author else None,
        author_is_bot=author.is_bot if author else False,
    )
