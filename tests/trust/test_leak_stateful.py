"""A randomized sequence of actions against a reference model (plain dicts): spaces (public/private), members
added and removed, questions and answers each carrying a fresh canary, edits, deletions (a Slack tombstone: the
text goes), threads moved between public and private spaces, and derivations (the import's incremental refresh, or
a full ``reindex``). After every derivation, for every viewer:

* ``ask`` returns a past question iff the model says the viewer may read its space (by question id, folded
  duplicates included), and its output holds no canary the viewer may not read;
* ``find_experts`` shows no evidence from a space the viewer may not read, and no such canary.

CI runs a bounded number of examples; ``-m extended`` runs many more.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule
from leakorg import canary_token
from sqlalchemy import select

from whoknows.derive import expertise_path, refresh_after_import, reindex
from whoknows.expertise import find_experts
from whoknows.ingest import ingest
from whoknows.memory.ask import MemorySearch
from whoknows.memory.memory_index import index_path
from whoknows.model import Alias, AliasKind, Batch, Message, MessageKind, Person, Space, SpaceKind, Thread, Visibility
from whoknows.store import open_store, schema

SRC = "test:stateful"
T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
PEOPLE = ["p0", "p1", "p2", "p3", "p4"]
TOPICS = [
    "walrus discount code freight",
    "invoice reversal lisbon subsidiary",
    "kubernetes ingress certificate renewal",
]
VIEWERS: list[str | None] = [None, *PEOPLE]
#: Totals over all examples of a run (printed at the end of the CI run): examples, derivations, checks, canaries.
TOTALS = {"examples": 0, "derivations": 0, "checks": 0, "canaries": 0}


@dataclass
class Msg:
    thread: str
    author: str
    kind: str  # question | answer
    topic: int
    token: str | None  # None once deleted
    n: int  # position (time order)


@dataclass
class Model:
    """The reference: who may read which space, where each thread lives, what each message says."""

    spaces: dict[str, tuple[bool, set[str]]] = field(default_factory=dict)  # ext -> (private, members)
    threads: dict[str, str] = field(default_factory=dict)  # thread ext -> space ext
    messages: dict[str, Msg] = field(default_factory=dict)  # message ext -> message
    history: list[str] = field(default_factory=list)  # every canary ever written

    def may_read(self, viewer: str | None, space: str) -> bool:
        private, members = self.spaces[space]
        return not private or (viewer is not None and viewer in members)

    def readable_tokens(self, viewer: str | None) -> set[str]:
        return {m.token for m in self.messages.values() if m.token and self.may_read(viewer, self.threads[m.thread])}

    def all_tokens(self) -> set[str]:
        """Every canary ever written (edited and deleted ones included: they must be gone)."""
        return set(self.history)


def text_of(m: Msg) -> str:
    topic = TOPICS[m.topic]
    if m.token is None:
        return ""  # deleted at the source: a tombstone has no text
    if m.kind == "question":
        return f"Who knows how the {topic} works for case {m.token} number {m.n}?"
    return f"The {topic} works like this: {m.token}, see step {m.n}."


class LeakMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="wk-leak-sm-"))
        self.store = open_store(str(self.tmp / "sm.db"))
        self.model = Model()
        self.pending: list[int] = []
        self.n = 0
        self.derived = False

    # -- writing through the real loading path -----------------------------------------------------------
    def _ingest(self, batch: Batch) -> None:
        self.pending.append(ingest(self.store, "test", SRC, [batch]).import_id)

    def _space(self, ext: str) -> Space:
        private, members = self.model.spaces[ext]
        vis = Visibility.PRIVATE if private else Visibility.PUBLIC
        return Space(SRC, ext, SpaceKind.CHANNEL, f"#{ext}", vis, member_refs=sorted(members))

    def _message(self, ext: str) -> Message:
        m = self.model.messages[ext]
        root = f"{m.thread}/q"
        return Message(
            SRC,
            ext,
            m.thread,
            m.author,
            T0 + timedelta(minutes=m.n),
            text_of(m),
            kind=MessageKind.QUESTION if m.kind == "question" else MessageKind.ANSWER,
            reply_to_ref=None if m.kind == "question" else root,
            reactions={} if m.kind == "question" else {"white_check_mark": 1},
        )

    def _fresh(self, tag: str) -> str:
        self.n += 1
        token = canary_token(self.n, tag)
        self.model.history.append(token)
        return token

    # -- rules -------------------------------------------------------------------------------------------
    @initialize()
    def start(self) -> None:
        self.model.spaces = {"pub0": (False, set()), "priv0": (True, {"p0", "p1"})}
        people = [Person(SRC, p, f"Person {p.upper()}", aliases=[Alias(AliasKind.EMAIL, f"{p}@sm.example")])
                  for p in PEOPLE]  # fmt: skip
        self._ingest(Batch(people=people, spaces=[self._space(s) for s in self.model.spaces]))
        # Something to find from the start: a solved question in each space.
        for topic, (space, asker, helper) in enumerate((("pub0", "p2", "p3"), ("priv0", "p0", "p1"))):
            self._answer(self._question(space, asker, topic), helper)

    @rule(private=st.booleans(), members=st.sets(st.sampled_from(PEOPLE), max_size=3))
    def add_space(self, private: bool, members: set[str]) -> None:
        ext = f"s{len(self.model.spaces)}"
        self.model.spaces[ext] = (private, set(members) if private else set())
        self._ingest(Batch(spaces=[self._space(ext)]))

    def _private(self) -> list[str]:
        return [s for s, (private, _) in self.model.spaces.items() if private]

    @rule(i=st.integers(0, 50), person=st.sampled_from(PEOPLE))
    def add_member(self, i: int, person: str) -> None:
        spaces = self._private()
        ext = spaces[i % len(spaces)]
        self.model.spaces[ext][1].add(person)
        self._ingest(Batch(spaces=[self._space(ext)]))

    @rule(i=st.integers(0, 50), j=st.integers(0, 50))
    def remove_member(self, i: int, j: int) -> None:
        spaces = [s for s in self._private() if self.model.spaces[s][1]]
        if not spaces:
            return
        ext = spaces[i % len(spaces)]
        members = sorted(self.model.spaces[ext][1])
        self.model.spaces[ext][1].discard(members[j % len(members)])
        self._ingest(Batch(spaces=[self._space(ext)]))

    @rule(i=st.integers(0, 50), author=st.sampled_from(PEOPLE), topic=st.integers(0, len(TOPICS) - 1))
    def post_question(self, i: int, author: str, topic: int) -> None:
        spaces = sorted(self.model.spaces)
        self._question(spaces[i % len(spaces)], author, topic)

    def _question(self, space: str, author: str, topic: int) -> str:
        thread = f"t{self.n + 1}"
        self.model.threads[thread] = space
        ext = f"{thread}/q"
        self.model.messages[ext] = Msg(thread, author, "question", topic, self._fresh("q"), self.n)
        self._ingest(Batch(threads=[Thread(SRC, thread, space, None, T0)], messages=[self._message(ext)]))
        return thread

    @precondition(lambda self: self.model.threads)
    @rule(i=st.integers(0, 50), author=st.sampled_from(PEOPLE))
    def post_answer(self, i: int, author: str) -> None:
        threads = sorted(self.model.threads)
        self._answer(threads[i % len(threads)], author)

    def _answer(self, thread: str, author: str) -> None:
        question = self.model.messages[f"{thread}/q"]
        token = self._fresh("a")
        ext = f"{thread}/a{self.n}"
        self.model.messages[ext] = Msg(thread, author, "answer", question.topic, token, self.n)
        self._ingest(Batch(messages=[self._message(ext)]))

    def _live(self) -> list[str]:
        return sorted(e for e, m in self.model.messages.items() if m.token is not None)

    @precondition(lambda self: any(m.token for m in self.model.messages.values()))
    @rule(i=st.integers(0, 50))
    def edit(self, i: int) -> None:
        live = self._live()
        ext = live[i % len(live)]
        self.model.messages[ext].token = self._fresh("e")  # the old canary is edited away, a new one appears
        self._ingest(Batch(messages=[self._message(ext)]))

    @precondition(lambda self: any(m.token for m in self.model.messages.values()))
    @rule(i=st.integers(0, 50))
    def delete(self, i: int) -> None:
        live = self._live()
        ext = live[i % len(live)]
        self.model.messages[ext].token = None
        self._ingest(Batch(messages=[self._message(ext)]))

    @precondition(lambda self: self.model.threads)
    @rule(i=st.integers(0, 50), j=st.integers(0, 50))
    def move_thread(self, i: int, j: int) -> None:
        threads = sorted(self.model.threads)
        thread = threads[i % len(threads)]
        here = self.model.spaces[self.model.threads[thread]][0]
        # Prefer the other visibility (public <-> private); any other space when there is none.
        targets = [s for s, (p, _) in self.model.spaces.items() if p != here] or sorted(self.model.spaces)
        target = sorted(targets)[j % len(targets)]
        self.model.threads[thread] = target
        self._ingest(Batch(threads=[Thread(SRC, thread, target, None, T0)]))

    @rule(full=st.booleans())
    def derive(self, full: bool) -> None:
        if full or not self.derived:
            reindex(self.store, self.tmp)
        else:
            for import_id in self.pending:
                refresh_after_import(self.store, self.tmp, import_id)
        self.pending.clear()
        self.derived = True
        TOTALS["derivations"] += 1
        self.check()

    def teardown(self) -> None:
        try:
            if self.pending or not self.derived:
                self.derive(full=not self.derived)
        finally:
            TOTALS["examples"] += 1
            TOTALS["canaries"] += len(self.model.history)
            self.store.close()
            shutil.rmtree(self.tmp, ignore_errors=True)

    # -- the invariant -----------------------------------------------------------------------------------
    def check(self) -> None:
        with self.store.read() as conn:
            m, p = schema.messages, schema.people
            ids = {ext: int(i) for ext, i in conn.execute(select(m.c.external_id, m.c.id).where(m.c.source == SRC))}
            people = {ext: int(i) for ext, i in conn.execute(select(p.c.external_id, p.c.id).where(p.c.source == SRC))}
            spaces = {
                int(i): ext
                for ext, i in conn.execute(
                    select(schema.spaces.c.external_id, schema.spaces.c.id).where(schema.spaces.c.source == SRC)
                )
            }
        search = MemorySearch(self.store, index_path(self.tmp))
        for viewer in VIEWERS:
            vid = people[viewer] if viewer else None
            allowed = self.model.readable_tokens(viewer)
            forbidden = self.model.all_tokens() - allowed
            must = {
                ids[e]
                for e, msg in self.model.messages.items()
                if msg.kind == "question" and msg.token and self.model.may_read(viewer, self.model.threads[msg.thread])
            }
            may_not = {
                ids[e]
                for e, msg in self.model.messages.items()
                if msg.kind == "question" and not self.model.may_read(viewer, self.model.threads[msg.thread])
            }
            got: set[int] = set()
            for topic in TOPICS:
                result = search.ask(topic, self.store.viewer(vid), k=50).as_dict()
                self._no_tokens(result, forbidden, f"ask {topic!r}", viewer)
                for hit in result["solutions"] + result["similar"]:
                    got |= {hit["question_id"], *hit["duplicates"]}
                experts = find_experts(
                    self.store, topic, self.store.viewer(vid), k=20, path=expertise_path(self.tmp)
                ).as_dict()
                self._no_tokens(experts, forbidden, f"find_experts {topic!r}", viewer)
                for e in experts["experts"]:
                    for ev in e["evidence"]:
                        space = spaces[ev["space_id"]]
                        assert self.model.may_read(viewer, space), (viewer, "evidence from", space, self.model)
                TOTALS["checks"] += 2
            assert not got & may_not, (viewer, "sees questions of unreadable spaces", got & may_not, self.model)
            missing = {q for q in must if q not in got and self._in_memory(q)}
            assert not missing, (viewer, "misses readable questions", missing, self.model)

    def _in_memory(self, qid: int) -> bool:
        """A readable question with text is found by its topic (it is in memory iff extraction kept it)."""
        with self.store.read() as conn:
            qp = schema.qa_pairs
            return conn.execute(select(qp.c.question_id).where(qp.c.question_id == qid)).first() is not None

    @staticmethod
    def _no_tokens(result: Any, forbidden: set[str], surface: str, viewer: str | None) -> None:
        text = json.dumps(result, default=str).lower()
        leaked = sorted(t for t in forbidden if t in text)
        assert not leaked, f"{surface} as {viewer or 'anonymous'} shows canaries it may not: {leaked}"


CI = settings(
    max_examples=15,
    stateful_step_count=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestLeakStateful = LeakMachine.TestCase
TestLeakStateful.settings = CI


def test_totals_of_the_run() -> None:
    """Runs after the machine (file order): what it did, so a vacuous run is visible (and fails)."""
    print(f"\nstateful leak test: {TOTALS}, leaks 0")
    if TOTALS["examples"]:
        assert TOTALS["derivations"] >= TOTALS["examples"] and TOTALS["checks"] > 0 and TOTALS["canaries"] > 0


class LeakMachineExtended(LeakMachine):
    pass


TestLeakStatefulExtended = pytest.mark.extended(LeakMachineExtended.TestCase)
TestLeakStatefulExtended.settings = settings(
    max_examples=150,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
