"""The features of one (question, candidate reply) pair, computed from the thread around them.

Every feature is a named float so that a picked solution can be explained ("thanked by the asker",
"3 :white_check_mark: reactions") and the weights stay readable. The source's own "accepted" flag is not a
feature: when present it decides outright (see :mod:`whoknows.memory.extract`), which lets the weights be
fitted on data whose accepted flags are hidden. Nor is the source's post kind: labelled sources already
restrict the candidates to their answers (:mod:`whoknows.memory.segment`), and a kind feature would only
learn each source's base rate, which does not transfer between sources.
"""

from __future__ import annotations

import math

from whoknows.memory import signals
from whoknows.memory.types import Post

FEATURES: tuple[str, ...] = (
    "replies_to_question",
    "by_asker",
    "self_resolved",  # the asker's own post says they solved it ("turns out", "figured it out")
    "thanked_direct",  # the asker thanks this post (replies to it or names its author)
    "thanked_after",  # the asker's next post thanks, and this was the last reply before it
    "failure_after",  # the asker says it did not work
    "asker_engaged",  # the asker replied to this post
    "score",  # signed log of votes
    "score_top",  # the highest score among the candidates (and above zero)
    "reactions",  # log of positive reactions
    "check_reaction",  # a check-mark reaction
    "negative_reaction",
    "hedge",  # "no idea", "not sure", "ask @x"
    "is_question",  # a clarifying question rather than an answer
    "is_thanks",  # a thank-you message itself
    "link",
    "code",
    "number",
    "length",  # log(1 + words)
    "longest",
    "first_reply",  # the first reply by somebody other than the asker
    "position",  # log(1 + index among candidates)
    "delay_hours",  # log(1 + hours after the question)
    "other_department",  # author's department known and different from the asker's
    "bot",
)
#: Chat reply-structure cues (computed for every source; only the chat model weighs them, so the Q&A-site
#: model fitted on :data:`FEATURES` is unchanged).
CHAT_FEATURES: tuple[str, ...] = (
    *FEATURES,
    "ack_next",  # the asker's next message after this reply acknowledges it ("thanks, I'll have a look", "I see")
    "asker_next",  # the asker speaks next, before anybody else answers (a follow-up to this reply)
    "failure_next",  # the asker's next message says it did not work
    "mentions_asker",  # the reply addresses the asker by name
    "helper_first",  # the first message of this helper in the thread
    "promise",  # the reply promises later action ("I'll fix it later today") rather than answering
    "question_asks",  # how strongly the question (with the asker's messages before the first reply) asks, 0..1
)


def candidate_features(posts: tuple[Post, ...], question: int, candidates: tuple[int, ...]) -> list[dict[str, float]]:
    """One feature dict per candidate (same order), for the question ``posts[question]``."""
    q = posts[question]
    asker = q.author_id
    cands = [posts[i] for i in candidates]
    scores = [c.score for c in cands]
    top = max(scores) if scores else 0
    longest = max((len(c.text) for c in cands), default=0)
    first_other = next((i for i in candidates if posts[i].author_id != asker), None)
    thanked_direct, thanked_after, failure_after, engaged = _asker_feedback(posts, question, candidates)
    nxt = _asker_next(posts, question, candidates)
    asks = signals.question_strength(_opening(posts, question))
    seen_helpers: set[object] = set()
    out: list[dict[str, float]] = []
    for rank, i in enumerate(candidates):
        c = posts[i]
        text = c.text
        by_asker = asker is not None and c.author_id == asker
        hours = max(0.0, (c.created_at - q.created_at).total_seconds() / 3600)
        f = {
            "replies_to_question": float(c.reply_to_id == q.id),
            "by_asker": float(by_asker),
            "self_resolved": float(by_asker and signals.is_self_resolved(text)),
            "thanked_direct": float(i in thanked_direct),
            "thanked_after": float(i in thanked_after),
            "failure_after": float(i in failure_after),
            "asker_engaged": float(i in engaged),
            "score": math.copysign(math.log1p(abs(c.score)), c.score),
            "score_top": float(c.score == top and top > 0 and scores.count(top) == 1),
            "reactions": math.log1p(signals.positive_reactions(c.reactions)),
            "check_reaction": float(signals.check_reactions(c.reactions) > 0),
            "negative_reaction": float(signals.negative_reactions(c.reactions) > 0),
            "hedge": float(signals.is_hedge(text)),
            "is_question": float(signals.question_strength(text) >= 0.8),
            "is_thanks": float(signals.is_thanks(text) and len(text.split()) < 25),
            "link": float(signals.has_link(text)),
            "code": float(signals.has_code(text)),
            "number": float(signals.has_number(text)),
            "length": signals.log_length(text),
            "longest": float(len(text) == longest and longest > 0),
            "first_reply": float(i == first_other),
            "position": math.log1p(rank),
            "delay_hours": math.log1p(hours),
            "other_department": float(
                bool(c.author_department and q.author_department and c.author_department != q.author_department)
            ),
            "bot": float(c.author_is_bot),
        }
        reply = nxt.get(i)
        f["asker_next"] = float(reply is not None)
        f["ack_next"] = float(reply is not None and signals.is_ack(reply.text) and not signals.is_failure(reply.text))
        f["failure_next"] = float(reply is not None and signals.is_failure(reply.text))
        f["mentions_asker"] = float(not by_asker and signals.mentions_any(text, q.author_names))
        f["helper_first"] = float(not by_asker and c.author_id not in seen_helpers)
        f["promise"] = float(not by_asker and signals.is_promise(text))
        f["question_asks"] = asks
        seen_helpers.add(c.author_id)
        out.append(f)
    return out


def _asker_feedback(
    posts: tuple[Post, ...], question: int, candidates: tuple[int, ...]
) -> tuple[set[int], set[int], set[int], set[int]]:
    """Which candidates the asker thanked (directly / by following them), said failed, or replied to."""
    asker = posts[question].author_id
    direct: set[int] = set()
    after: set[int] = set()
    failed: set[int] = set()
    engaged: set[int] = set()
    if asker is None:
        return direct, after, failed, engaged
    index = {posts[i].id: i for i in candidates}
    last_other: int | None = None
    for i in candidates:
        p = posts[i]
        if p.author_id != asker:
            last_other = i
            continue
        target = index.get(p.reply_to_id) if p.reply_to_id is not None else None
        if target is not None and posts[target].author_id != asker:
            engaged.add(target)
        thanks = signals.is_thanks(p.text)
        failure = signals.is_failure(p.text)
        if thanks and not failure:
            named = [j for j in candidates if j < i and posts[j].author_id != asker and _names(posts[j], p.text)]
            if target is not None and posts[target].author_id != asker:
                direct.add(target)
            for j in named:
                direct.add(j)
            if last_other is not None:
                after.add(last_other)
        if failure:
            if target is not None:
                failed.add(target)
            elif last_other is not None:
                failed.add(last_other)
    return direct, after, failed, engaged


def _opening(posts: tuple[Post, ...], question: int) -> str:
    """The question's text with the asker's own messages that follow it before anybody else speaks."""
    asker = posts[question].author_id
    parts = [posts[question].text]
    for p in posts[question + 1 :]:
        if p.author_id != asker or len(parts) >= 5:
            break
        parts.append(p.text)
    return "\n".join(parts)


def _asker_next(posts: tuple[Post, ...], question: int, candidates: tuple[int, ...]) -> dict[int, Post]:
    """For each helper's candidate, the asker's next message when it answers that reply: the asker speaks
    before any other helper does, or names / replies to this reply's author."""
    asker = posts[question].author_id
    out: dict[int, Post] = {}
    if asker is None:
        return out
    pending: list[int] = []  # helper replies since the asker last spoke, oldest first
    for i in candidates:
        p = posts[i]
        if p.author_id != asker:
            pending.append(i)
            continue
        if pending:
            last = pending[-1]
            out[last] = p
            for j in pending[:-1]:
                other = posts[j].author_id != posts[last].author_id
                if other and (p.reply_to_id == posts[j].id or _names(posts[j], p.text)):
                    out[j] = p
        pending = []
    return out


def _names(author_post: Post, text: str) -> bool:
    return signals.mentions_any(text, author_post.author_names)
