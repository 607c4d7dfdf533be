"""The give/take ledger: directed help events (helper → helped) derived from rows, as pure functions.

Each function takes the rows of one partition (a space; see :mod:`whoknows.analytics.rows`) and returns
:class:`HelpEvent` objects; nothing here reads the database or global state, so the ledger can be computed as a
job over an export, partition by partition, and concatenated.

Kinds of evidence, strongest first (``weight`` is what an event counts for in help volumes):

* ``accepted`` (1.0): the asker (or the source) marked the helper's reply as the accepted answer;
* ``ticket`` (1.0): in a ticket queue, an agent's public reply to the requester (a ticket hand-off);
* ``solved`` (1.0 for the best solution, 0.5 for the others): the memory chose the helper's reply as a solution;
* ``routed`` (1.0): a question routed to the helper and answered — a hook for the routing issue, empty today;
* ``reply`` (0.25): any other reply by someone else in the question's thread (a weaker signal).

One helper gets one event per question: the strongest kind wins (:func:`dedupe`).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from whoknows.analytics.rows import MessageRow, QuestionRow, SolutionRow, SpaceRows


class HelpKind(StrEnum):
    ACCEPTED = "accepted"
    TICKET = "ticket"
    SOLVED = "solved"
    ROUTED = "routed"
    REPLY = "reply"


#: Kinds that mean "this person answered the question" (used for the bus factor and know-how counts).
STRONG_KINDS = frozenset({HelpKind.ACCEPTED, HelpKind.TICKET, HelpKind.SOLVED, HelpKind.ROUTED})
_STRENGTH = {HelpKind.ACCEPTED: 5, HelpKind.TICKET: 4, HelpKind.ROUTED: 3, HelpKind.SOLVED: 2, HelpKind.REPLY: 1}


@dataclass(frozen=True, slots=True)
class HelpEvent:
    helper_id: int
    helped_id: int
    kind: HelpKind
    weight: float
    at: datetime  # when the help was given (the evidence message)
    asked_at: datetime  # when the question was asked (response time = at - asked_at)
    question_id: int
    thread_id: int
    space_id: int
    source_kind: str  # the space kind: channel, dm, mailbox, qa_site, ticket_queue, crm
    evidence_id: int  # the message that carries the help
    topic: int | None = None

    @property
    def strong(self) -> bool:
        return self.kind in STRONG_KINDS

    @property
    def response_hours(self) -> float:
        return max(0.0, (self.at - self.asked_at).total_seconds() / 3600)


def events_from_space(rows: SpaceRows) -> list[HelpEvent]:
    """Every help event of one space's rows, one per (question, helper)."""
    questions = {q.question_id: q for q in rows.questions}
    owner = attribute_messages(rows.questions, rows.messages)
    kind = rows.space.kind
    events = [
        *solved_events(questions, rows.solutions, kind),
        *accepted_events(questions, rows.messages, owner, kind),
        *reply_events(questions, rows.messages, owner, kind),
        *routed_events(questions),
    ]
    if kind == "ticket_queue":
        events.extend(ticket_events(questions, rows.messages, owner, kind))
    return dedupe(events)


def attribute_messages(questions: Sequence[QuestionRow], messages: Sequence[MessageRow]) -> dict[int, int]:
    """Which question each message answers: the question it replies to (directly or through a chain of replies),
    else the latest question asked before it in the same thread. Messages before any question answer none."""
    keys: dict[int, list[tuple[datetime, int]]] = {}
    for q in sorted(questions, key=lambda q: (q.created_at, q.question_id)):
        keys.setdefault(q.thread_id, []).append((q.created_at, q.question_id))
    qids = {q.question_id for q in questions}
    owner: dict[int, int] = {}
    for m in messages:  # in thread and time order
        if m.id in qids:
            owner[m.id] = m.id
        elif m.reply_to_id is not None and m.reply_to_id in owner:
            owner[m.id] = owner[m.reply_to_id]
        else:
            asked = keys.get(m.thread_id, [])
            i = bisect_right(asked, (m.created_at, m.id))
            if i > 0:
                owner[m.id] = asked[i - 1][1]
    return owner


def _event(
    q: QuestionRow, helper: int | None, kind: HelpKind, weight: float, m_id: int, at: datetime, sk: str
) -> HelpEvent | None:
    if helper is None or q.asker_id is None or helper == q.asker_id:
        return None
    return HelpEvent(
        helper, q.asker_id, kind, weight, at, q.created_at, q.question_id, q.thread_id, q.space_id, sk, m_id
    )


def solved_events(questions: dict[int, QuestionRow], solutions: Iterable[SolutionRow], kind: str) -> list[HelpEvent]:
    out = []
    for s in solutions:
        q = questions.get(s.question_id)
        if q is not None:
            e = _event(q, s.solver_id, HelpKind.SOLVED, 1.0 if s.rank <= 1 else 0.5, s.message_id, s.created_at, kind)
            if e is not None:
                out.append(e)
    return out


def _message_events(
    questions: dict[int, QuestionRow],
    messages: Iterable[MessageRow],
    owner: dict[int, int],
    kind: str,
    help_kind: HelpKind,
    weight: float,
    keep: Callable[[MessageRow], bool],
) -> list[HelpEvent]:
    """One event per message (other than the question itself) that ``keep`` accepts, credited to its author."""
    out = []
    for m in messages:
        q = questions.get(owner.get(m.id, -1))
        if q is not None and m.id != q.question_id and keep(m):
            e = _event(q, m.author_id, help_kind, weight, m.id, m.created_at, kind)
            if e is not None:
                out.append(e)
    return out


def accepted_events(
    questions: dict[int, QuestionRow], messages: Iterable[MessageRow], owner: dict[int, int], kind: str
) -> list[HelpEvent]:
    """Answers the asker (or the source) marked as accepted."""
    return _message_events(questions, messages, owner, kind, HelpKind.ACCEPTED, 1.0, lambda m: m.accepted)


def reply_events(
    questions: dict[int, QuestionRow], messages: Iterable[MessageRow], owner: dict[int, int], kind: str
) -> list[HelpEvent]:
    """Replies by others in a question's thread (the first reply per person and question)."""
    return _message_events(questions, messages, owner, kind, HelpKind.REPLY, 0.25, lambda m: m.public)


def ticket_events(
    questions: dict[int, QuestionRow], messages: Iterable[MessageRow], owner: dict[int, int], kind: str
) -> list[HelpEvent]:
    """Ticket hand-offs: the first public reply of each agent (anyone but the requester) to the ticket's question."""
    return _message_events(questions, messages, owner, kind, HelpKind.TICKET, 1.0, lambda m: m.public)


def routed_events(questions: dict[int, QuestionRow]) -> list[HelpEvent]:
    """Hook for routed questions (a later issue): a question routed to a colleague who answered it is help of kind
    ``routed`` from that colleague to the asker. No routing log exists yet, so there are none."""
    return []


def dedupe(events: Iterable[HelpEvent]) -> list[HelpEvent]:
    """One event per (question, helper): the strongest kind, and among equals the earliest."""
    best: dict[tuple[int, int], HelpEvent] = {}
    for e in events:
        key = (e.question_id, e.helper_id)
        cur = best.get(key)
        if cur is None or (_STRENGTH[e.kind], e.weight, -e.at.timestamp()) > (
            _STRENGTH[cur.kind],
            cur.weight,
            -cur.at.timestamp(),
        ):
            best[key] = e
    return sorted(best.values(), key=lambda e: (e.at, e.question_id, e.helper_id))


def with_topics(events: Iterable[HelpEvent], topic_of_question: dict[int, int]) -> list[HelpEvent]:
    # The constructor called directly: dataclasses.replace costs three times as much (360,000 events at 1M).
    return [
        HelpEvent(e.helper_id, e.helped_id, e.kind, e.weight, e.at, e.asked_at, e.question_id, e.thread_id,
                  e.space_id, e.source_kind, e.evidence_id, topic_of_question.get(e.question_id))
        for e in events
    ]  # fmt: skip
