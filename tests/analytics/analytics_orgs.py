"""Small hand-made organisations for the analytics tests (written through the real store)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from whoknows.ingest import ingest
from whoknows.memory import rebuild_memory
from whoknows.model import Alias, AliasKind, Batch, Message, MessageKind, Person, Space, SpaceKind, Thread
from whoknows.store import Store

SRC = "test:org"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def person(i: int, dept: str | None, team: str | None = None, role: str | None = None) -> Person:
    return Person(SRC, f"u{i}", f"Person {i}", [Alias(AliasKind.EMAIL, f"p{i}@x.example")], department=dept,
                  team=team, role=role)  # fmt: skip


def load_org(store: Store, people: list[Person], pairs: list[tuple[int, int]], topic: str = "invoice export") -> None:
    """One public channel; for each (asker, helper) a question thread answered (and thanked) by the helper."""
    batch = Batch(people=people, spaces=[Space(SRC, "c1", SpaceKind.CHANNEL, "#help")])
    for n, (asker, helper) in enumerate(pairs):
        when = T0 + timedelta(hours=3 * n)
        tid = f"t{n}"
        batch.threads.append(Thread(SRC, tid, "c1", created_at=when))
        batch.messages += [
            Message(SRC, f"{tid}q", tid, f"u{asker}", when, f"how do I configure the {topic} for account {n}?",
                    MessageKind.QUESTION),
            Message(SRC, f"{tid}a", tid, f"u{helper}", when + timedelta(minutes=20),
                    f"Go to Settings > Billing > {topic}, choose CSV and save; it runs nightly.",
                    reply_to_ref=f"{tid}q", accepted=True),
            Message(SRC, f"{tid}t", tid, f"u{asker}", when + timedelta(minutes=30), "thanks, that worked!",
                    reply_to_ref=f"{tid}a"),
        ]  # fmt: skip
    ingest(store, "test", SRC, [batch])
    rebuild_memory(store)
