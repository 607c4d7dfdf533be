"""Hand-written threads for the memory tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from whoknows.memory.types import Post, ThreadInput

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NAMES = {"ann": ("ann lee", "ann", "ann.lee"), "bob": ("bob ray", "bob"), "cyd": ("cyd moss", "cyd"), "dee": ("dee",)}


def post(pid: str, author: str, minutes: float, text: str, **kw: object) -> Post:
    return Post(
        id=pid,
        author_id=author,
        created_at=T0 + timedelta(minutes=minutes),
        text=text,
        author_names=NAMES.get(author, ()),
        **kw,  # type: ignore[arg-type]
    )


def thread(*posts: Post, tid: str = "t1") -> ThreadInput:
    return ThreadInput(thread_id=tid, space_id="s1", posts=posts)
