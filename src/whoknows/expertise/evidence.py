"""Expertise evidence of one thread: a pure function of its messages (partition key: thread).

Roles: the thread's first message is the *question* when the thread is a question thread (a ``question`` kind, an
``answer`` in it, or a question mark in the opener); a reply by someone other than the asker is an *answer* (on a
Q&A site only posts of kind ``answer`` are answers and the rest are *comments*); the asker's later messages are
*follow-ups*; any message of a thread that is not a question is a plain *message*. In chat a reply that gives no
know-how (a brush-off, a redirect, "I don't know" or a pure question: :func:`whoknows.expertise.nonanswer.
is_non_answer`) is a *comment*, not an answer, unless it is accepted or check-marked: a comment is no answer in the
training labels or the reason sentence (it still counts as a contribution, e.g. in ``vote_other``). On a Q&A site a
posted answer stays an answer whatever it says.

Reception: ``accepted`` (the source's accepted flag, or a check-mark reaction on chat), ``thanked`` (the asker's
follow-up says thanks: the credit goes to the reply it answers, else to a check-marked reply, else to the latest
answer before it; a thanked comment is marked thanked but stays a comment), ``score`` (votes) and ``reactions``
(total count).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from whoknows.expertise.nonanswer import is_non_answer
from whoknows.expertise.rows import MessageRow

ROLES = ("answer", "comment", "message", "question", "followup")
ANSWER, COMMENT, MESSAGE, QUESTION, FOLLOWUP = range(5)
#: Roles that show someone else's know-how (indexed for voting and profiles).
CONTRIBUTION_ROLES = (ANSWER, COMMENT, MESSAGE)
CHECK_REACTIONS = frozenset({"white_check_mark", "heavy_check_mark", "ballot_box_with_check", "check", "solved"})
_THANKS = re.compile(
    r"\b(thanks|thank you|thank u|thx|ty|cheers|much appreciated|that worked|solved it|works now|perfect)\b",
    re.IGNORECASE,
)
#: Characters of the question kept as context in front of an answer's indexed text.
CONTEXT_CHARS = 300


@dataclass(frozen=True, slots=True)
class Evidence:
    message_id: int
    thread_id: int
    space_id: int
    author_id: int | None
    asker_id: int | None
    role: int
    time: float
    accepted: bool
    thanked: bool
    score: int
    reactions: int
    #: Text to index: the question's opening (context) and the message itself.
    text: str


def says_thanks(text: str) -> bool:
    return bool(_THANKS.search(text[:400]))


def _is_question_thread(rows: Sequence[MessageRow]) -> bool:
    root = rows[0]
    if root.kind == "question" or any(r.kind == "answer" for r in rows):
        return True
    return "?" in root.text[:2000]


def thread_evidence(rows: Sequence[MessageRow]) -> list[Evidence]:
    """Evidence for every message of one thread (``rows`` in time order)."""
    if not rows:
        return []
    root = rows[0]
    asker = root.author_id
    question = _is_question_thread(rows)
    qa_site = any(r.kind == "answer" for r in rows)
    roles: dict[int, int] = {}
    for r in rows:
        if r is root:
            roles[r.id] = QUESTION if question else MESSAGE
        elif not question:
            roles[r.id] = MESSAGE
        elif r.author_id is not None and r.author_id == asker:
            roles[r.id] = FOLLOWUP
        elif qa_site:
            roles[r.id] = ANSWER if r.kind == "answer" else COMMENT
        elif not (r.accepted or CHECK_REACTIONS & r.reactions.keys()) and is_non_answer(r.text):
            roles[r.id] = COMMENT
        else:
            roles[r.id] = ANSWER
    checked = {r.id for r in rows if roles[r.id] == ANSWER and CHECK_REACTIONS & r.reactions.keys()}
    thanked = _thanked(rows, roles, asker, checked) if question else set()
    context = root.text[:CONTEXT_CHARS]
    out = []
    for r in rows:
        role = roles[r.id]
        text = r.text if r is root else f"{context}\n{r.text}"
        out.append(
            Evidence(
                message_id=r.id,
                thread_id=r.thread_id,
                space_id=r.space_id,
                author_id=r.author_id,
                asker_id=asker if r is not root else None,
                role=role,
                time=r.time,
                accepted=r.accepted or r.id in checked,
                thanked=r.id in thanked,
                score=r.score,
                reactions=sum(v for v in r.reactions.values() if v > 0),
                text=text,
            )
        )
    return out


def _thanked(rows: Sequence[MessageRow], roles: dict[int, int], asker: int | None, checked: set[int]) -> set[int]:
    by_id = {r.id: r for r in rows}
    credited: set[int] = set()
    latest_answer: int | None = None
    for r in rows:
        role = roles[r.id]
        if role == ANSWER:
            latest_answer = r.id
        elif role == FOLLOWUP and asker is not None and says_thanks(r.text):
            target = by_id.get(r.reply_to_id) if r.reply_to_id is not None else None
            if target is not None and roles[target.id] in (ANSWER, COMMENT):
                credited.add(target.id)
            elif checked:
                credited.update(checked)
            elif latest_answer is not None:
                credited.add(latest_answer)
    return credited


def evidence_batch(threads: Sequence[Sequence[MessageRow]]) -> list[Evidence]:
    """Evidence for a batch of whole threads (the unit a distributed job would process)."""
    return [e for rows in threads for e in thread_evidence(rows)]
