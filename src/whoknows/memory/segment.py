"""Finding the questions of a thread and, for each, the replies that may have solved it.

Rules (transparent, no fitting needed):

* A source that labels its posts (Q&A sites, tickets: any post of kind ``question`` or ``answer``) is
  trusted: its ``question`` posts are the questions, and its ``answer`` posts (when there are any) are the
  only solution candidates.
* Otherwise (chat, e-mail) the first post is a question when it reads as one, or when other people replied
  to it (the first message of a help conversation usually is the question even without a "?").
* A later post opens a new question when it is a clear question (a "?" plus an interrogative or request) and
  either comes from someone who had not spoken yet and does not reply to anyone (a newcomer's own question),
  or from the current asker after their previous question was settled with thanks. A clarifying question
  from a helper stays part of the current question.
* A question's candidates are the posts after it up to the next question, plus later posts replying to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from whoknows.memory import signals
from whoknows.memory.types import Post, ThreadInput

#: Confidence given to a first post that does not read as a question but got replies from others.
REPLIED_ROOT_CONFIDENCE = 0.5
#: Minimum question confidence for a post to be extracted as a question.
MIN_QUESTION_CONFIDENCE = 0.5

_LABELLED = frozenset({"question", "answer"})


@dataclass(frozen=True, slots=True)
class Segment:
    """One question of a thread and its solution candidates (indexes into the thread's posts)."""

    question: int
    candidates: tuple[int, ...]
    confidence: float
    cues: dict[str, float]


def ordered_posts(thread: ThreadInput) -> tuple[Post, ...]:
    """The thread's posts in time order (stable for equal times)."""
    return tuple(sorted(thread.posts, key=lambda p: p.created_at))


def segment_thread(posts: tuple[Post, ...]) -> list[Segment]:
    """The questions of a thread (posts in time order) with their candidate replies."""
    if not posts:
        return []
    if any(p.kind in _LABELLED for p in posts):
        return _labelled(posts)
    return _conversational(posts)


def _labelled(posts: tuple[Post, ...]) -> list[Segment]:
    questions = [i for i, p in enumerate(posts) if p.kind == "question"]
    answers = [i for i, p in enumerate(posts) if p.kind == "answer"]
    out: list[Segment] = []
    for n, qi in enumerate(questions):
        end = questions[n + 1] if n + 1 < len(questions) else len(posts)
        q = posts[qi]
        if answers:
            pool = [i for i in answers if qi < i and (i < end or posts[i].reply_to_id == q.id)]
        else:
            pool = [i for i in range(qi + 1, len(posts)) if i < end or posts[i].reply_to_id == q.id]
        cues = signals.question_cues(q.text)
        cues["labelled"] = 1.0
        out.append(Segment(qi, tuple(pool), 1.0, cues))
    return out


def _conversational(posts: tuple[Post, ...]) -> list[Segment]:
    starts: list[tuple[int, float, dict[str, float]]] = []
    root = posts[0]
    cues = signals.question_cues(root.text)
    strength = signals.question_strength(root.text)
    others = any(p.author_id != root.author_id for p in posts[1:])
    conf = max(strength, REPLIED_ROOT_CONFIDENCE if others and not root.author_is_bot else 0.0)
    if conf >= MIN_QUESTION_CONFIDENCE:
        cues["replied"] = 1.0 if others else 0.0
        starts.append((0, conf, cues))
    ids = {p.id for p in posts}
    seen_authors = {root.author_id}
    asker = root.author_id if starts else None
    settled = False
    for i in range(1, len(posts)):
        p = posts[i]
        if asker is not None and p.author_id == asker and signals.is_thanks(p.text):
            settled = True
        clear = signals.question_strength(p.text) >= 1.0 and not signals.is_hedge(p.text)
        newcomer = p.author_id not in seen_authors and (p.reply_to_id is None or p.reply_to_id not in ids)
        follow_up = asker is not None and p.author_id == asker and settled and not signals.is_thanks(p.text)
        if clear and (newcomer or follow_up or asker is None) and not p.author_is_bot:
            c = signals.question_cues(p.text)
            c["later"] = 1.0
            starts.append((i, signals.question_strength(p.text), c))
            asker, settled = p.author_id, False
        seen_authors.add(p.author_id)
    out: list[Segment] = []
    for n, (qi, conf, cues) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(posts)
        q = posts[qi]
        pool = tuple(i for i in range(qi + 1, len(posts)) if i < end or posts[i].reply_to_id == q.id)
        out.append(Segment(qi, pool, conf, cues))
    return out
