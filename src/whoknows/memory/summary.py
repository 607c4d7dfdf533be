"""One combined answer on top: the few sentences of the top solutions that best answer the question, each cited.

Extractive only: every sentence is a reader-visible solution's own words, with the question it answered, who
gave it and the link. Sentences are scored by the idf-weighted share of the question's words they contain (the
reader's own statistics, :class:`whoknows.memory.confidence.QueryTerms`) times their solution's confidence (a
sentence from a solution that may not answer the question does not lead one that does), scaled down when they
add fewer than :data:`NEW_TERMS` words of their own (a sentence that only repeats the question's topic tells
nothing); a
sentence saying what a chosen one already says is skipped, and chatter ("Sure.", "Let me know how it goes.")
never qualifies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from whoknows.index.analyzer import analyze
from whoknows.memory.confidence import RELATED, QueryTerms

if TYPE_CHECKING:
    from whoknows.memory.ask import MemoryHit, PersonRef

#: At most this many sentences, from at most this many solutions.
SENTENCES, SOLUTIONS = 3, 3
#: A sentence with fewer analysed terms than this is chatter.
SENTENCE_TERMS = 5
#: Two sentences sharing this share of their terms say the same thing.
SAME = 0.5
#: A sentence adding at least this many words the question does not have counts fully.
NEW_TERMS = 5
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass
class AnswerSentence:
    text: str
    question_id: int
    solved_by: PersonRef | None
    link: str | None
    card: int  # 1-based position of the solution card it comes from


def sentences(text: str) -> list[tuple[str, frozenset[str]]]:
    """The substantial sentences of ``text`` with their analysed terms."""
    out = []
    for s in SENTENCE_END.split(text):
        terms = frozenset(analyze(s))
        if len(terms) >= SENTENCE_TERMS:
            out.append((s.strip(), terms))
    return out


def combined_answer(q: QueryTerms, hits: list[MemoryHit]) -> list[AnswerSentence]:
    total = q.total
    if not total:
        return []
    scored = []
    for card, hit in enumerate(hits[:SOLUTIONS], start=1):
        if hit.solution is None or hit.confidence < RELATED:
            continue
        for position, (text, terms) in enumerate(sentences(hit.solution)):
            new = len(terms - q.terms)
            cover = sum(q.weight(t) for t in q.terms & terms) / total
            score = cover * min(1.0, new / NEW_TERMS) * hit.confidence
            if score > 0:
                scored.append((-score, card, position, text, terms, hit))
    scored.sort(key=lambda x: x[:3])
    chosen: list[tuple[frozenset[str], AnswerSentence]] = []
    for _, card, _, text, terms, hit in scored:
        if any(len(terms & t) / len(terms | t) >= SAME for t, _ in chosen):
            continue
        chosen.append((terms, AnswerSentence(text, hit.question_id, hit.solved_by, hit.link, card)))
        if len(chosen) == SENTENCES:
            break
    return [a for _, a in chosen]
