"""Every place a person's text or name is copied to, in one registry that erasure, retention and tombstones use.

A message's text and its author's name do not only live in ``messages`` and ``people``: the memory extracts
pairs from them, routing copies memory's draft answer, its citations (with the solver's name) and the ranked
candidates (with evidence snippets) onto a routed question, the notifications queued for experts and askers copy
those again, and a captured routed answer is kept as the asker's record. :data:`COPIES` lists each of them with
how the rows that derive from a message or a person are found and cleaned; :data:`OWNED` lists the columns
whose rows go with their person or message (foreign keys cascade, or the caller deletes them);
:data:`NO_PEOPLE_TEXT` the text columns that hold nobody's words; :data:`FILES` what lives under the data dir.
``tests/trust/test_derived_copies.py`` fails when a text column of ``store/schema.py`` is in none of them.

The caller describes what goes with :func:`removal_of` (before it deletes or rewrites the messages: the texts
are read from them) and calls :func:`clean` in the same transaction. A copy keeps what did not come from the
removed messages or person: the asker's own question stays, a citation of an unaffected pair stays.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Connection, delete, select, update

from whoknows.store import schema
from whoknows.store.chunking import in_chunks

ERASED = "[erased]"
#: A copied fragment shorter than this is not looked for inside the removed texts (too many false matches).
MIN_FRAGMENT = 12
_CUTS = re.compile(r"[“”\"…]|\.\.\.")
#: Runs of this many words are what a copied fragment is matched on.
GRAM = 4
#: Keys of copied JSON that hold a person's display name.
_NAME_KEYS = ("solved_by", "name", "expert", "asker")
#: Notification states that have not been delivered yet.
_UNSENT = ("pending", "held", "sending")


@dataclass
class Removal:
    """What goes: messages (deleted or blanked) with their texts, and/or a person (erased or anonymised)."""

    messages: set[int] = field(default_factory=set)
    texts: list[str] = field(default_factory=list)
    #: Authors of those messages: evidence quoted for them (a candidate's or an expert's reasons) is checked.
    authors: set[int] = field(default_factory=set)
    #: Memory pairs (question message ids) that lose their question or a solution: citations of them go.
    pairs: set[int] = field(default_factory=set)
    #: Pairs kept de-identified (retention): citations of them keep the link but lose the solver's name.
    anonymous_pairs: set[int] = field(default_factory=set)
    person_id: int | None = None
    name: str | None = None
    #: Replaces the person's name and aliases (erasure) or everyone's (retention's kept knowledge) in copied text.
    rename: Callable[[str], str] | None = None
    #: The person's own words go too (erasure's ``delete`` policy): their captured routed answers.
    own_words: bool = False
    _grams: Any = field(default=None, repr=False)
    _exact: set[str] = field(default_factory=set, repr=False)

    def __post_init__(self) -> None:
        norm = [_normal(t) for t in self.texts]
        self._exact = set(norm)
        grams = [hash(g) for text in norm for g in _grams(text.split())]
        self._grams = np.unique(np.array(grams, dtype=np.int64))

    def __bool__(self) -> bool:
        return bool(self.messages or self.person_id is not None or self.pairs or self.anonymous_pairs)

    def derives(self, value: str) -> bool:
        """Whether ``value`` (a snippet, a quoted evidence, a notification body) copies a removed text: it is one,
        or a piece of it between cuts (``…``, quotes) has every run of :data:`GRAM` words (but its first and
        last word, which may be cut) in a removed text."""
        s = _normal(value)
        if not s or not self._exact:
            return False
        if s in self._exact:
            return True
        for fragment in (f.strip() for f in _CUTS.split(s)):
            if len(fragment) < MIN_FRAGMENT:
                continue
            words = fragment.split()[1:-1]
            if len(words) < GRAM:  # too short to tell, unless it is a whole removed text
                if fragment in self._exact:
                    return True
                continue
            wanted = np.array([hash(g) for g in _grams(words)], dtype=np.int64)
            at = np.searchsorted(self._grams, wanted)
            if bool(np.all((at < len(self._grams)) & (self._grams[np.minimum(at, len(self._grams) - 1)] == wanted))):
                return True
        return False

    def named(self, value: Any) -> bool:
        return self.name is not None and isinstance(value, str) and value.strip().lower() == self.name.lower()

    def scrub(self, value: str) -> str:
        return self.rename(value) if self.rename is not None else value


def _grams(words: list[str]) -> Iterable[tuple[str, ...]]:
    return (tuple(words[i : i + GRAM]) for i in range(len(words) - GRAM + 1))


def _normal(text: str | None) -> str:
    return " ".join((text or "").split()).lower()


def removal_of(
    conn: Connection,
    message_ids: Iterable[int],
    *,
    person_id: int | None = None,
    name: str | None = None,
    rename: Callable[[str], str] | None = None,
    anonymous_pairs: Iterable[int] = (),
    own_words: bool = False,
) -> Removal:
    """The removal of ``message_ids`` (read now, before they change) and optionally of a person."""
    m, qp, qs = schema.messages, schema.qa_pairs, schema.qa_solutions
    ids = sorted({int(i) for i in message_ids})
    texts: list[str] = []
    authors: set[int] = set()
    pairs: set[int] = set()
    for part in in_chunks(ids):
        for text, author in conn.execute(select(m.c.text, m.c.author_id).where(m.c.id.in_(part))):
            texts += [text] if text else []
            authors |= {int(author)} if author is not None else set()
        pairs |= {int(i) for i in conn.execute(select(qp.c.question_id).where(qp.c.question_id.in_(part))).scalars()}
        pairs |= {int(i) for i in conn.execute(select(qs.c.question_id).where(qs.c.message_id.in_(part))).scalars()}
    return Removal(set(ids), texts, authors, pairs, set(anonymous_pairs) - pairs, person_id, name, rename, own_words)


# -- cleaning the copies ------------------------------------------------------------------------------------------


def _strings(values: Any, r: Removal, quoting: Any = None) -> list[Any]:
    """A list of copied strings without those that copy a removed text (the erased person's names replaced).
    ``quoting``: whose evidence the strings quote (only a removed message's author's can copy it)."""
    check = quoting is None or quoting in r.authors
    kept = [v for v in values or [] if not (check and isinstance(v, str) and r.derives(v))]
    return [r.scrub(v) if isinstance(v, str) and r.person_id is not None else v for v in kept]


def _citations(citations: Any, r: Removal) -> tuple[list[Any], str]:
    """The citations left, and what became of the first one (the source of the draft answer): ``kept``,
    ``gone`` or ``anonymous`` (its pair stays de-identified)."""
    kept: list[Any] = []
    first = "kept"
    for i, c in enumerate(citations or []):
        qid = int(c["question_id"]) if isinstance(c, dict) and c.get("question_id") is not None else None
        if qid in r.pairs:
            first = "gone" if i == 0 else first
            continue
        if qid in r.anonymous_pairs:
            first = "anonymous" if i == 0 else first
            c = {**c, "solved_by": None}
        elif isinstance(c, dict) and r.named(c.get("solved_by")):
            c = {**c, "solved_by": None}
        kept.append(c)
    return kept, first


def _answer(value: Any, first: str, r: Removal) -> Any:
    """The draft answer: gone with its source or when it copies a removed text, else with names replaced (the
    erased person's; everyone's when its pair is kept de-identified)."""
    if not isinstance(value, str) or first == "gone" or r.derives(value):
        return None if isinstance(value, str) else value
    return r.scrub(value) if r.person_id is not None or first == "anonymous" else value


def clean_draft(draft: dict[str, Any], r: Removal) -> dict[str, Any]:
    """A routed question's draft (memory's answer, citations, ranked candidates) without what was removed."""
    citations, first = _citations(draft.get("citations"), r)
    candidates = [
        {**c, "why": _strings(c.get("why"), r, c.get("person_id"))}
        for c in draft.get("candidates") or []
        if isinstance(c, dict) and c.get("person_id") != r.person_id and not r.named(c.get("name"))
    ]
    out = {**draft, "answer": _answer(draft.get("answer"), first, r), "citations": citations}
    if "candidates" in draft:
        out["candidates"] = candidates
    return out


def clean_payload(payload: dict[str, Any], r: Removal, recipient: int | None = None) -> tuple[dict[str, Any], bool]:
    """A notification's payload without what was removed, and whether nothing worth sending is left (an answer
    notification whose answer went, a digest whose every item went). A request's reasons quote the evidence of
    its ``recipient``."""
    out = dict(payload)
    void = False
    if "citations" in out or "draft" in out:
        citations, first = _citations(out.get("citations"), r)
        out["citations"] = citations
        out["draft"] = _answer(out.get("draft"), first, r)
    if "reasons" in out:
        out["reasons"] = _strings(out.get("reasons"), r, recipient)
    for key in _NAME_KEYS:
        if r.named(out.get(key)):
            out[key] = None
    if "answer" in out:
        by_them = bool(payload.get("expert")) and not out.get("expert")
        if by_them or (isinstance(out["answer"], str) and r.derives(out["answer"])):
            out["answer"], out["expert"], void = None, None, True
        elif isinstance(out["answer"], str) and r.person_id is not None:
            out["answer"] = r.scrub(out["answer"])
    if "items" in out:
        items = [clean_payload(i, r, recipient) for i in out.get("items") or [] if isinstance(i, dict)]
        out["items"] = [i for i, gone in items if not gone]
        void = not out["items"]
    return out, void


def _rows(conn: Connection, table: Any, *columns: Any) -> Iterable[Any]:
    """Every row of ``table`` (id and ``columns``), read in chunks: copies carry no index on what they copy."""
    ids = list(conn.execute(select(table.c.id)).scalars())
    for part in in_chunks(ids):
        yield from conn.execute(select(table.c.id, *columns).where(table.c.id.in_(part))).all()


def _clean_routed(conn: Connection, r: Removal) -> int:
    rq = schema.routed_questions
    n = 0
    for rid, draft in _rows(conn, rq, rq.c.draft):
        new = clean_draft(dict(draft or {}), r)
        if new != (draft or {}):
            conn.execute(update(rq).where(rq.c.id == rid).values(draft=new))
            n += 1
    return n


def _clean_assignments(conn: Connection, r: Removal) -> int:
    ra = schema.route_assignments
    n = 0
    for rid, reason, expert in _rows(conn, ra, ra.c.reason, ra.c.expert_id):
        new = _strings(reason, r, expert)
        if new != list(reason or []):
            conn.execute(update(ra).where(ra.c.id == rid).values(reason=new))
            n += 1
    return n


def _clean_outbox(conn: Connection, r: Removal) -> int:
    ob = schema.notification_outbox
    n = 0
    for rid, payload, status, recipient in _rows(conn, ob, ob.c.payload, ob.c.status, ob.c.person_id):
        new, void = clean_payload(dict(payload or {}), r, recipient)
        if new != (payload or {}):
            values: dict[str, Any] = {"payload": new}
            if void and status in _UNSENT:
                values["status"] = "dropped"
            conn.execute(update(ob).where(ob.c.id == rid).values(**values))
            n += 1
    return n


def _clean_answers(conn: Connection, r: Removal) -> int:
    ans = schema.route_answers
    n = 0
    if r.own_words and r.person_id is not None:
        n += int(conn.execute(delete(ans).where(ans.c.expert_id == r.person_id)).rowcount or 0)
    for part in in_chunks(sorted(r.messages)):
        n += int(conn.execute(delete(ans).where(ans.c.message_id.in_(part))).rowcount or 0)
    return n


@dataclass(frozen=True)
class Copy:
    """A derived copy of people's text or names: where it is, how the rows from a message/person are found."""

    table: str
    columns: tuple[str, ...]
    holds: str
    found_by: str
    clean: Callable[[Connection, Removal], int] | None = None  # None: derived again by the caller (memory)


COPIES: tuple[Copy, ...] = (
    Copy("qa_pairs", ("question_text",), "the question message's text (a pair per question)",
         "question_id is the message (CASCADE); touched threads are re-extracted or de-identified"),
    Copy("qa_solutions", ("snippet",), "a solution message's snippet",
         "message_id (CASCADE); touched threads are re-extracted or de-identified"),
    Copy("threads", ("title",), "the first message's first line (or an e-mail's subject)",
         "threads whose first message goes lose their title (the caller)"),
    Copy("routed_questions", ("draft",),
         "memory's draft answer, citations (solver's name) and ranked candidates (name, evidence snippets)",
         "citations by question_id in the pairs that lose a message; candidates by person_id; "
         "the answer and evidence by their text", _clean_routed),
    Copy("route_assignments", ("reason",), "why an expert was asked (evidence snippets)",
         "expert_id (CASCADE); evidence by its text", _clean_assignments),
    Copy("notification_outbox", ("payload",),
         "request, answer and digest bodies: question, draft, citations, reasons, answer, names",
         "person_id / assignment_id (CASCADE); copied parts as for routed_questions; "
         "an unsent one left with nothing to say is dropped", _clean_outbox),
    Copy("route_answers", ("text",), "a captured routed answer (also stored as the expert's message)",
         "message_id: the captured message", _clean_answers),
)  # fmt: skip

#: Columns whose rows go with the person or message they belong to (deleted by the caller or ON DELETE CASCADE).
OWNED: dict[str, tuple[str, ...]] = {
    "people": ("source", "external_id", "name", "department", "team", "role", "timezone", "meta"),
    "person_aliases": ("kind", "value", "source", "identity", "rule"),
    "person_merges": ("identity", "absorbed", "moved", "rule"),
    "messages": ("source", "external_id", "author_ref", "kind", "text", "reactions", "url", "meta"),
    "threads": ("source", "external_id", "url", "meta"),
    "routed_questions": ("text", "topic_terms", "status"),  # the asker's own question: goes with the asker
    "route_assignments": ("state", "channel"),
    "expert_prefs": ("channels", "digest", "work_days", "hidden_topics", "email", "slack_user", "webhook_url"),
    "notification_outbox": ("idempotency_key", "channel", "kind", "status", "last_error"),
    "route_answers": ("channel",),
    "route_outcomes": ("outcome",),
    "accounts": ("password_hash", "role"),
    "api_tokens": ("token_sha256", "kind", "name", "role"),
    "directory": ("identity",),
}

#: Text columns that hold nobody's words or name, and why.
NO_PEOPLE_TEXT: dict[str, tuple[tuple[str, ...], str]] = {
    "schema_migrations": (("name",), "migration names"),
    "imports": (("kind", "source", "location", "status", "stats", "error"), "import bookkeeping (paths, counts)"),
    "spaces": (("source", "external_id", "kind", "name", "visibility", "description", "meta"), "channels, sites"),
    "qa_pairs": (("signals", "extractor"), "extraction scores and version"),
    "qa_solutions": (("signals",), "extraction scores"),
    "database_identity": (("database_id",), "a random id of the database"),
    "login_failures": (("key",), "an account id, a digest or a client address; pruned after the throttling window"),
}


@dataclass(frozen=True)
class DataFile:
    """A file or folder under the data dir that holds copies of people's text or names."""

    where: Callable[[Path], Path]
    holds: str
    cleaned: str


def _index(data_dir: Path) -> Path:
    from whoknows.memory.memory_index import index_path

    return index_path(data_dir)


def _expertise(data_dir: Path) -> Path:
    from whoknows.derive import expertise_path

    return expertise_path(data_dir)


FILES: tuple[DataFile, ...] = (
    DataFile(_index, "the memory search index: question and solution texts",
             "the touched documents are dropped or rewritten (segment files rewritten)"),
    DataFile(_expertise, "the expertise model: evidence snippets, people's names", "rebuilt from the store"),
    DataFile(lambda d: d / "uploads", "exports uploaded through the API while their import runs",
             "removed when the import ends"),
)  # fmt: skip


def clean(conn: Connection, removal: Removal) -> dict[str, int]:
    """Clean every registered copy of what ``removal`` describes; returns rows changed per table."""
    if not removal:
        return {}
    return {c.table: c.clean(conn, removal) for c in COPIES if c.clean is not None}


def tables() -> list[str]:
    """The tables that hold copies of people's text or names (registered or owned), in schema order."""
    named = {c.table for c in COPIES} | set(OWNED)
    return [t.name for t in schema.metadata.sorted_tables if t.name in named]


def declared_columns() -> set[tuple[str, str]]:
    """Every (table, column) the registry says something about."""
    out = {(c.table, col) for c in COPIES for col in c.columns}
    out |= {(t, col) for t, cols in OWNED.items() for col in cols}
    out |= {(t, col) for t, (cols, _why) in NO_PEOPLE_TEXT.items() for col in cols}
    return out
