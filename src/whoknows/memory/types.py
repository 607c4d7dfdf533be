"""The records extraction works on and produces: a thread's posts in, question/solution pairs out.

Extraction never touches the database: the repository (or a benchmark reading a dump) turns rows into
:class:`Post` objects, and stores the :class:`QAPair` objects it gets back. Message ids are whatever the caller
uses (store ids, or external ids when extracting straight from an importer's batches).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

MessageId = int | str
PersonId = int | str


@dataclass(frozen=True, slots=True)
class Post:
    """One message of a thread, with what extraction may look at (nothing else leaks in)."""

    id: MessageId
    author_id: PersonId | None
    created_at: datetime
    text: str
    kind: str = "message"  # model.MessageKind value
    reply_to_id: MessageId | None = None
    score: int = 0
    reactions: dict[str, int] = field(default_factory=dict)
    accepted: bool = False
    #: How the author may be addressed in the thread (name, first name, handles); lower-case.
    author_names: tuple[str, ...] = ()
    author_department: str | None = None
    author_is_bot: bool = False


@dataclass(frozen=True, slots=True)
class ThreadInput:
    """A thread as extraction sees it: posts in time order, plus where it lives."""

    thread_id: MessageId
    space_id: MessageId | None
    posts: tuple[Post, ...]
    title: str | None = None
    space_kind: str | None = None  # model.SpaceKind value


@dataclass(frozen=True, slots=True)
class Solution:
    """A reply chosen as (part of) the solution of a question, with its confidence and the signals behind it."""

    message_id: MessageId
    solver_id: PersonId | None
    confidence: float
    rank: int
    snippet: str
    signals: dict[str, float]


@dataclass(frozen=True, slots=True)
class QAPair:
    """A question found in a thread and its ranked solutions (empty when nothing solved it)."""

    question_id: MessageId
    thread_id: MessageId
    space_id: MessageId | None
    asker_id: PersonId | None
    created_at: datetime
    question_text: str
    question_confidence: float
    question_signals: dict[str, float]
    solutions: tuple[Solution, ...] = ()

    @property
    def best(self) -> Solution | None:
        return self.solutions[0] if self.solutions else None
