"""A small organisation with private spaces of every kind, each holding unique *canary* strings, and a reference
model (plain dicts) of who may read which space, for the "no leaks" tests (issue 9).

A canary is a made-up word (``zq…x``) that occurs in one message (the analytics canary: in several questions of one
space, so that it can become a topic label), or the name of a person who writes only in one private space. The
reference model says a viewer may see it iff its space is public or the viewer is a member. :meth:`LeakOrg.scan`
searches any serialised output for every canary and returns the ones the viewer may not see: each one is a leak.

People (external id → role in the story):

* ``ann``, ``bob`` – members of the private channel ``#deal-room``; ``pia`` is a member too and writes *only* there
  (a private-only expert: outsiders must not even learn her name from expert finding).
* ``cat``, ``ann`` – the private ``finance`` mailbox; ``dan``, ``bob`` – a DM; ``fay`` (requester), ``gus`` (agent) –
  the private ``Billing`` ticket queue; ``gus``, ``cat`` – the private CRM.
* ``hal`` – the public expert on every topic (answers in ``#general``), member of no private space.
* ``ivy`` – member of nothing, asks in public; ``ada`` (admin account) and ``alan`` (analyst account) are outsiders.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from whoknows.derive import derived_dir, reindex
from whoknows.ingest import ingest
from whoknows.model import (
    Alias,
    AliasKind,
    Batch,
    Message,
    MessageKind,
    Person,
    Space,
    SpaceKind,
    Thread,
    Visibility,
)
from whoknows.settings import Settings
from whoknows.store import Store, open_store

SRC = "test:leak"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PASSWORD = "leak matrix password 42"
DOMAIN = "leak.example"
_LETTERS = "bcdfghjklmnpqrstvwz"

PEOPLE: dict[str, tuple[str, str]] = {  # ext -> (name, department)
    "ann": ("Ann Abbott", "Sales"),
    "bob": ("Bob Brandt", "Sales"),
    "pia": ("Pia Quorndale", "Legal"),
    "cat": ("Cat Carver", "Finance"),
    "dan": ("Dan Dorsey", "Engineering"),
    "fay": ("Fay Fenwick", "Support"),
    "gus": ("Gus Garrick", "Support"),
    "hal": ("Hal Halloran", "Engineering"),
    "ivy": ("Ivy Ingram", "Marketing"),
    "ada": ("Ada Admin", "IT"),
    "alan": ("Alan Analyst", "IT"),
}
ROLES = {"ada": "admin", "alan": "analyst"}  # API account roles; everybody else is a member

#: Topic words per private space: the question a viewer types (never containing a canary).
TOPICS: dict[str, str] = {
    "room": "walrus discount code Zanzibar freight",
    "mbox": "invoice VAT reversal Lisbon subsidiary",
    "dm": "kubernetes ingress certificate renewal staging",
    "queue": "refund chargeback dispute Stripe",
    "crm": "Globex pharma reference customer",
}


def canary_token(n: int, tag: str) -> str:
    """A word that occurs nowhere else: ``zq`` + tag + base-19 letters + ``x`` (no digits, no stemmable ending)."""
    s = ""
    n += 1
    while n:
        n, r = divmod(n, len(_LETTERS))
        s += _LETTERS[r]
    return f"zq{tag}{s}x"


@dataclass(frozen=True)
class Canary:
    token: str
    space: str  # space external id (reference model key)
    role: str  # question | answer | open | person
    author: str
    topic: str  # the query that should find it


@dataclass
class SpaceRef:
    ext: str
    kind: SpaceKind
    name: str
    visibility: Visibility
    members: set[str] = field(default_factory=set)


@dataclass
class LeakOrg:
    """The organisation, the store it lives in, and the reference model of who may read what."""

    store: Store
    settings: Settings
    data_dir: Path  # the database's derived folder (whoknows.derive.derived_dir): the core's data_dir
    ids: dict[str, int]  # person ext -> store id
    spaces: dict[str, SpaceRef]
    canaries: list[Canary]
    person_canaries: dict[str, str] = field(default_factory=dict)  # name -> space ext (private-only people)

    # -- reference model ---------------------------------------------------------------------------------
    def may_read(self, viewer: str | None, space: str) -> bool:
        s = self.spaces[space]
        return s.visibility == Visibility.PUBLIC or (viewer is not None and viewer in s.members)

    def may_see(self, viewer: str | None, canary: Canary) -> bool:
        return self.may_read(viewer, canary.space)

    def person_ext(self, pid: int | None) -> str | None:
        return None if pid is None else next(k for k, v in self.ids.items() if v == pid)

    # -- scanning ----------------------------------------------------------------------------------------
    def seen(self, blob: Any) -> set[str]:
        """Canary tokens (and private-only people's names) found in ``blob`` (serialised to JSON unless text)."""
        text = (blob if isinstance(blob, str) else json.dumps(blob, default=str, ensure_ascii=False)).lower()
        return {c.token for c in self.canaries if c.token.lower() in text}

    def scan(self, blob: Any, viewer: str | None, *, people: bool = True) -> list[Canary]:
        """The canaries in ``blob`` that ``viewer`` may not see. ``people=False`` skips the person canaries (a
        surface that names people on purpose, e.g. the profile page of that very person)."""
        found = self.seen(blob)
        return [
            c
            for c in self.canaries
            if c.token in found and not self.may_see(viewer, c) and (people or c.role != "person")
        ]

    def email(self, ext: str) -> str:
        return f"{ext}@{DOMAIN}"

    def close(self) -> None:
        self.store.close()


@dataclass
class Tally:
    """Checks run and leaks found, for the summary the tests print."""

    checks: int = 0
    leaks: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    def check(self, org: LeakOrg, surface: str, viewer: str | None, blob: Any, *, people: bool = True) -> set[str]:
        self.checks += 1
        for c in org.scan(blob, viewer, people=people):
            self.leaks.append(f"{surface}: viewer={viewer or 'anonymous'} saw {c.token} ({c.role} in {c.space})")
        return org.seen(blob)

    def report(self, title: str, planted: int) -> str:
        lines = [f"{title}: canaries planted {planted}, checks {self.checks}, leaks {len(self.leaks)}"]
        per: dict[str, int] = {}
        for x in self.leaks:
            per[x.split(":")[0]] = per.get(x.split(":")[0], 0) + 1
        lines += [f"  leaks on {surface}: {n}" for surface, n in sorted(per.items())]
        lines += [f"  LEAK {x}" for x in self.leaks[:50]]
        return "\n".join(lines)


# -- building the organisation ----------------------------------------------------------------------------
def person(ext: str) -> Person:
    name, dept = PEOPLE[ext]
    return Person(
        SRC, ext, name, aliases=[Alias(AliasKind.EMAIL, f"{ext}@{DOMAIN}")], department=dept, role="Colleague"
    )


def qa_thread(
    tid: str,
    space: str,
    asker: str,
    answerer: str | None,
    question: str,
    answer: str | None,
    at: datetime,
    *,
    source: str = SRC,
) -> tuple[Thread, list[Message]]:
    """A thread: a question, optionally a check-marked answer by someone else and the asker's thanks."""
    msgs = [Message(source, f"{tid}/q", tid, asker, at, question, kind=MessageKind.QUESTION)]
    if answer is not None and answerer is not None:
        msgs.append(
            Message(
                source,
                f"{tid}/a",
                tid,
                answerer,
                at + timedelta(minutes=7),
                answer,
                kind=MessageKind.ANSWER,
                reply_to_ref=f"{tid}/q",
                reactions={"white_check_mark": 1},
                score=2,
            )
        )
        msgs.append(
            Message(
                source,
                f"{tid}/k",
                tid,
                asker,
                at + timedelta(minutes=15),
                "Thanks, that worked!",
                reply_to_ref=f"{tid}/a",
            )
        )
    return Thread(source, tid, space, None, at), msgs


PUBLIC_ANSWERS = {
    "room": "For the walrus discount code on Zanzibar freight ask the deal desk; codes expire after a quarter.",
    "mbox": "An invoice VAT reversal for the Lisbon subsidiary goes through the tax portal, form R-2.",
    "dm": "Kubernetes ingress certificate renewal on staging is done by cert-manager; restart the ingress pod.",
    "queue": "A refund after a Stripe chargeback dispute is refused until the dispute is closed.",
    "crm": "For a Globex pharma reference customer use the case study in the sales wiki.",
}


def private_spaces() -> dict[str, SpaceRef]:
    return {
        "general": SpaceRef("general", SpaceKind.CHANNEL, "#general", Visibility.PUBLIC),
        "qa": SpaceRef("qa", SpaceKind.QA_SITE, "ask.internal", Visibility.PUBLIC),
        "room": SpaceRef("room", SpaceKind.CHANNEL, "#deal-room", Visibility.PRIVATE, {"ann", "bob", "pia"}),
        "mbox": SpaceRef("mbox", SpaceKind.MAILBOX, "finance@", Visibility.PRIVATE, {"cat", "ann"}),
        "dm": SpaceRef("dm", SpaceKind.DM, "dm bob-dan", Visibility.PRIVATE, {"dan", "bob"}),
        "queue": SpaceRef("queue", SpaceKind.TICKET_QUEUE, "Billing", Visibility.PRIVATE, {"fay", "gus"}),
        "crm": SpaceRef("crm", SpaceKind.CRM, "CRM notes", Visibility.PRIVATE, {"gus", "cat"}),
    }


#: Private space -> (asker, answerer, open-question asker).
PRIVATE_CAST = {
    "room": ("ann", "pia", "bob"),
    "mbox": ("cat", "ann", "ann"),
    "dm": ("dan", "bob", "bob"),
    "queue": ("fay", "gus", "fay"),
    "crm": ("cat", "gus", "gus"),
}


def build_batch(spaces: dict[str, SpaceRef]) -> tuple[Batch, list[Canary]]:
    batch = Batch(people=[person(e) for e in PEOPLE])
    for s in spaces.values():
        batch.spaces.append(Space(SRC, s.ext, s.kind, s.name, s.visibility, member_refs=sorted(s.members)))
    canaries: list[Canary] = []

    def add(thread: Thread, msgs: list[Message]) -> None:
        batch.threads.append(thread)
        batch.messages.extend(msgs)

    for n, (space, topic) in enumerate(TOPICS.items()):
        asker, answerer, opener = PRIVATE_CAST[space]
        cq, ca, co = (canary_token(n, "q"), canary_token(n, "a"), canary_token(n, "o"))
        canaries += [
            Canary(cq, space, "question", asker, topic),
            Canary(ca, space, "answer", answerer, topic),
            Canary(co, space, "open", opener, topic),
        ]
        at = T0 + timedelta(days=n + 1)
        # The private solved question: canary in the question and in the answer (near the start: snippets).
        add(
            *qa_thread(
                f"{space}-solved",
                space,
                asker,
                answerer,
                f"How do we handle the {topic} case {cq} for our account?",
                f"The {topic} answer is {ca}: use the internal procedure, it worked last quarter.",
                at,
            )
        )
        # An open (unanswered) private question.
        add(
            *qa_thread(
                f"{space}-open",
                space,
                opener,
                None,
                f"Who knows the {topic} rule {co} for next month?",
                None,
                at + timedelta(hours=3),
            )
        )
        # Public threads on the same topic, answered by the public expert and by others.
        for i, (who, by) in enumerate((("ivy", "hal"), ("ann", "hal"), ("bob", "gus"))):
            add(
                *qa_thread(
                    f"{space}-pub{i}",
                    "general" if i != 1 else "qa",
                    who,
                    by,
                    f"Question about the {topic}: what is the process? ({i})",
                    f"{PUBLIC_ANSWERS[space]} ({by}, {i})",
                    at + timedelta(hours=5 + i),
                )
            )
    # A private-only expert's second contribution, so she has a profile (and a name that is itself a canary).
    n = len(TOPICS)
    cq2, ca2 = canary_token(n, "q"), canary_token(n, "a")
    canaries += [
        Canary(cq2, "room", "question", "bob", TOPICS["room"]),
        Canary(ca2, "room", "answer", "pia", TOPICS["room"]),
    ]
    add(
        *qa_thread(
            "room-solved2",
            "room",
            "bob",
            "pia",
            f"Can the walrus discount code {cq2} be stacked with Zanzibar freight rebates?",
            f"No: walrus discount codes {ca2} never stack with freight rebates.",
            T0 + timedelta(days=9),
        )
    )
    # An analytics canary: one made-up word in several questions of #deal-room, so that a topic label (the top
    # terms of a cluster of questions) can carry it to whoever's report is computed over that space.
    cn = canary_token(n + 1, "n")
    canaries.append(Canary(cn, "room", "topic", "ann", "embargo clause binding tender"))
    for i, (who, by) in enumerate((("ann", "pia"), ("bob", "pia"), ("ann", "bob"), ("bob", "ann"))):
        add(
            *qa_thread(
                f"room-topic{i}",
                "room",
                who,
                by,
                f"Is the {cn} embargo clause binding for the {cn} tender? ({i})",
                f"Yes, the {cn} embargo clause binds the tender. ({i})",
                T0 + timedelta(days=10 + i),
            )
        )
    return batch, canaries


def build_org(tmp: Path, *, accounts: bool = False) -> LeakOrg:
    """Create the organisation in a fresh SQLite store under ``tmp`` and derive everything (memory, index,
    expertise model). With ``accounts``: every person gets an API account (admin/analyst for ``ada``/``alan``)."""
    settings = Settings(
        data_dir=tmp,
        db=str(tmp / "leak.db"),
        analytics_min_group=2,
        routing_weekly_budget=1000,
        api_login_max_failures=0,
    )
    store = open_store(settings)
    spaces = private_spaces()
    batch, canaries = build_batch(spaces)
    ingest(store, "test", SRC, [batch])
    derived = derived_dir(tmp, store)  # where the CLI and the server look (the core's data_dir)
    reindex(store, derived)
    with store.read() as conn:
        from sqlalchemy import select

        from whoknows.store import schema

        a = schema.person_aliases
        ids = {
            v.split("@")[0]: int(p)
            for p, v in conn.execute(select(a.c.person_id, a.c.value).where(a.c.kind == AliasKind.EMAIL.value))
        }
    org = LeakOrg(store, settings, derived, ids, spaces, canaries)
    # Pia writes only in #deal-room: her name is a canary of that space on people-finding surfaces.
    org.canaries.append(Canary(PEOPLE["pia"][0], "room", "person", "pia", TOPICS["room"]))
    if accounts:
        from whoknows.api.accounts import add_account

        for ext in PEOPLE:
            add_account(store, org.email(ext), role=ROLES.get(ext, "member"), password=PASSWORD)
    return org


def viewers(org: LeakOrg) -> list[str | None]:
    return [None, *org.ids]


def tokens_in_files(root: Path, tokens: Iterable[str], *, skip: Iterable[Path] = ()) -> dict[str, list[str]]:
    """Which of ``tokens`` occur (case-insensitively) in which files under ``root``."""
    skipped = {p.resolve() for p in skip}
    out: dict[str, list[str]] = {}
    for f in sorted(root.rglob("*")):
        if not f.is_file() or f.resolve() in skipped:
            continue
        data = f.read_bytes().lower()
        for t in tokens:
            if t.lower().encode() in data:
                out.setdefault(t, []).append(str(f.relative_to(root)))
    return out
