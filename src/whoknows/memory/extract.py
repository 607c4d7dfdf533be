"""Q&A extraction: a thread's posts in, its questions and their ranked solutions out. Pure functions.

For each question found by :func:`whoknows.memory.segment.segment_thread`, every candidate reply gets the
features of :mod:`whoknows.memory.features` and a probability from the :class:`SolutionModel` (by default the
one :func:`whoknows.memory.weights.model_for` picks: the chat model for chat threads, else the Q&A model). A reply the
source marks as accepted always ranks first (the asker said so); other replies count as solutions when their
probability reaches the model's threshold. At most ``max_solutions`` are kept per question.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from whoknows.memory.features import candidate_features
from whoknows.memory.segment import ordered_posts, segment_thread
from whoknows.memory.types import Post, QAPair, Solution, ThreadInput
from whoknows.memory.weights import SolutionModel, model_for

#: Confidence of a solution the source marked as accepted.
ACCEPTED_CONFIDENCE = 0.99
SNIPPET_CHARS = 400
QUESTION_CHARS = 2000


def extract_thread(thread: ThreadInput, model: SolutionModel | None = None, *, max_solutions: int = 3) -> list[QAPair]:
    """The questions of ``thread`` with their ranked solutions (possibly none)."""
    model = model if model is not None else model_for(thread)
    posts = ordered_posts(thread)
    pairs: list[QAPair] = []
    for seg in segment_thread(posts):
        q = posts[seg.question]
        ranked = rank_candidates(posts, seg.question, seg.candidates, model)
        solutions: list[Solution] = []
        for idx, p, feats in ranked:
            post = posts[idx]
            if not (post.accepted or p >= model.threshold) or len(solutions) >= max_solutions:
                continue
            sig = {k: round(v, 3) for k, v in feats.items() if v}
            sig["probability"] = round(p, 4)
            if post.accepted:
                sig["accepted"] = 1.0
            solutions.append(
                Solution(
                    message_id=post.id,
                    solver_id=post.author_id,
                    confidence=round(max(p, ACCEPTED_CONFIDENCE) if post.accepted else p, 4),
                    rank=len(solutions) + 1,
                    snippet=snippet(post.text, SNIPPET_CHARS),
                    signals=sig,
                )
            )
        pairs.append(
            QAPair(
                question_id=q.id,
                thread_id=thread.thread_id,
                space_id=thread.space_id,
                asker_id=q.author_id,
                created_at=q.created_at,
                question_text=snippet(q.text, QUESTION_CHARS),
                question_confidence=round(seg.confidence, 4),
                question_signals={k: v for k, v in seg.cues.items() if v},
                solutions=tuple(solutions),
            )
        )
    return pairs


def rank_candidates(
    posts: tuple[Post, ...], question: int, candidates: tuple[int, ...], model: SolutionModel
) -> list[tuple[int, float, dict[str, float]]]:
    """``(post index, probability, features)`` for every candidate, accepted first, then most probable first."""
    if not candidates:
        return []
    feats = candidate_features(posts, question, candidates)
    scored = [(i, model.probability(f), f) for i, f in zip(candidates, feats, strict=True)]
    scored.sort(key=lambda t: (not posts[t[0]].accepted, -t[1], t[0]))
    return scored


def extract_threads(
    threads: Iterable[ThreadInput], model: SolutionModel | None = None, *, max_solutions: int = 3
) -> Iterator[QAPair]:
    """:func:`extract_thread` over a batch of threads (a partition: a space, a time window)."""
    for thread in threads:
        yield from extract_thread(thread, model, max_solutions=max_solutions)


def snippet(text: str, limit: int) -> str:
    """``text`` with whitespace collapsed, cut at a word boundary to at most ``limit`` characters."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut) + "…"
