"""What expert finding and profiles return: plain dataclasses that serialise to JSON (``as_dict()``)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

SNIPPET_CHARS = 240
_WORD = re.compile(r"\w+")


@dataclass
class EvidenceItem:
    """One message that shows the person's know-how, and why it counts."""

    message_id: int
    snippet: str
    url: str | None
    why: list[str]
    time: str | None = None
    space_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Expert:
    person_id: int
    name: str
    department: str | None
    rank: int
    score: float
    evidence: list[EvidenceItem] = field(default_factory=list)
    #: The features that raised this person most (name -> contribution to the score).
    signals: dict[str, float] = field(default_factory=dict)
    #: Why, in words, from the messages that matched the question (:func:`in_words`).
    reason: str = ""
    #: Job title and team, as the directory or source gives them.
    title: str | None = None
    team: str | None = None

    def position(self) -> str:
        """ "Solutions Engineer · Presales · EMEA": title, department and team, those that are known."""
        return " · ".join(x for x in (self.title, self.department, self.team) if x)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["score"] = round(self.score, 4)
        return d


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def in_words(
    answers: int,
    other: int,
    accepted: int,
    thanked: int,
    latest: str | None,
    matched: bool,
    about: Sequence[str] = (),
    days_ago: int | None = None,
) -> str:
    """ "answered 3 questions about saml, certificate (2 accepted, 1 thanked), latest on 2026-05-05, 12 days ago":
    counted over the matched messages the reader may see; ``about``: the question's words their evidence shares
    (rarest first; "like this" without any); ``days_ago``: how long ago the latest was (left out when unknown or
    in the future); ``matched`` False when only the person's profile matched."""
    if not matched:
        return "no message matches this question; their past answers cover its topic"
    on = f"about {', '.join(about)}" if about else "about it"
    if answers:
        text = f"answered {_plural(answers, 'question')} {on if about else 'like this'}"
        text += f" and {_plural(other, 'other message')} about it" if other else ""
    else:
        text = f"wrote {_plural(other, 'other message')} {on}" if other else f"wrote {on}"
    praise = [f"{accepted} accepted"] * bool(accepted) + [f"{thanked} thanked"] * bool(thanked)
    if praise:
        text += f" ({', '.join(praise)})"
    if latest:
        text += f", latest on {latest[:10]}"
        if days_ago is not None and days_ago >= 0:
            text += ", today" if days_ago == 0 else f", {_plural(days_ago, 'day')} ago"
    return text


@dataclass
class ExpertResult:
    question: str
    experts: list[Expert]
    reason: str | None = None
    asker_id: int | None = None
    stale: bool = False
    ranker: str = "learned"

    def as_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "asker_id": self.asker_id,
            "ranker": self.ranker,
            "stale": self.stale,
            "reason": self.reason,
            "experts": [e.as_dict() for e in self.experts],
        }


@dataclass
class Topic:
    term: str  # the index term (a stem, e.g. ``glass``)
    weight: float
    messages: int
    evidence: list[EvidenceItem] = field(default_factory=list)
    label: str = ""  # how the person's messages write it: a phrase where they share one ("break glass")


@dataclass
class Profile:
    person_id: int
    name: str
    department: str | None
    topics: list[Topic] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    stale: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def iso(ts: float) -> str | None:
    if not math.isfinite(ts):
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat()


def snippet(text: str, words: list[str], limit: int = SNIPPET_CHARS) -> str:
    """At most ``limit`` characters of ``text`` around the first occurrence of one of ``words``, cut at word
    boundaries (a word is only split when it alone is longer than the window)."""
    flat = " ".join(text.split())
    low = flat.lower()
    start = 0
    for w in words:
        m = re.search(r"\b" + re.escape(w.lower()), low)
        if m:
            start = max(0, m.start() - limit // 4)
            if start:  # begin at the first whole word of the lead-in (or at the match itself)
                space = flat.find(" ", start - 1, m.start())
                start = space + 1 if space >= 0 else m.start()
            break
    end = start + limit
    if end < len(flat) and flat[end] != " ":  # end after the last whole word, when there is one
        space = flat.rfind(" ", start + 1, end)
        end = space if space > start else end
    cut = flat[start:end]
    return ("…" if start else "") + cut + ("…" if end < len(flat) else "")


def asked_words(question: str) -> list[str]:
    """The question's words as the asker wrote them (lower case, two letters or more; "sso" included)."""
    return [w for w in _WORD.findall(question.lower()) if len(w) > 1]


def query_words(question: str) -> list[str]:
    return [w for w in _WORD.findall(question.lower()) if len(w) > 3][:20]


def why(role: str, accepted: bool, thanked: bool, score: int, reactions: int) -> list[str]:
    out = [{"answer": "answered a question", "comment": "commented on a question"}.get(role, "wrote about it")]
    if accepted:
        out.append("accepted answer")
    if thanked:
        out.append("thanked by asker")
    if score > 0:
        out.append(f"+{score} vote{'s' if score != 1 else ''}")
    if reactions > 0:
        out.append(f"{reactions} reaction{'s' if reactions != 1 else ''}")
    return out
