"""The solution model: a logistic regression over :data:`whoknows.memory.features.FEATURES`.

``DEFAULT`` was fitted by ``bench/bench_extraction.py --fit ai,demo`` (ai.stackexchange with the accepted flags
hidden, plus a generated demo organisation of another seed) and checked on beer.stackexchange, the Slack chats
and a demo organisation it never saw; the benchmark prints the same table for the opposite fit direction.

``CHAT`` weighs :data:`whoknows.memory.features.CHAT_FEATURES` for chat threads (:func:`model_for`): fitted by
``bench/bench_chat_extraction.py --fit-source`` on hand-labelled racket #general conversations of 2017-2019,
pulled towards ``DEFAULT``'s weights, its threshold the most recall at precision 0.8 on those labels; the
benchmark reports it leave-one-year-out (fitted on two years, measured on the third).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from whoknows.memory.types import ThreadInput


@dataclass(frozen=True)
class SolutionModel:
    """``p(solution) = sigmoid(intercept + sum(weight[f] * feature[f]))``; a candidate at or above
    ``threshold`` counts as a solution."""

    weights: dict[str, float]
    intercept: float
    threshold: float = 0.5
    fitted_on: str = ""
    meta: dict[str, float] = field(default_factory=dict)

    def logit(self, features: dict[str, float]) -> float:
        return self.intercept + sum(w * features.get(name, 0.0) for name, w in self.weights.items())

    def probability(self, features: dict[str, float]) -> float:
        z = self.logit(features)
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)

    def contributions(self, features: dict[str, float]) -> dict[str, float]:
        """Each feature's share of the logit (non-zero ones): the evidence behind a pick."""
        out = {name: round(w * features.get(name, 0.0), 4) for name, w in self.weights.items()}
        return {k: v for k, v in out.items() if v}


#: Prior weights for cues that some training sources never show; the fit shrinks towards these instead of 0.
#: Also for cues the data cannot tell apart: in the demo org a thank-you always comes with a check-mark reaction,
#: so the data alone would credit either one arbitrarily; real chats often have only one of the two.
PRIORS: dict[str, float] = {
    "thanked_direct": 5.0,  # the asker thanks this reply or its author
    "thanked_after": 3.0,
    "check_reaction": 2.0,
    "hedge": -2.0,
    "self_resolved": 4.0,  # the asker reports their own fix
    "failure_after": -2.0,  # the asker says it did not work
    "negative_reaction": -1.0,
    "bot": -3.0,
}

DEFAULT = SolutionModel(
    weights={
        "replies_to_question": 0.0445,
        "by_asker": -0.2377,
        "self_resolved": 4.0,
        "thanked_direct": 4.8012,
        "thanked_after": 2.8646,
        "failure_after": -2.0,
        "asker_engaged": 0.3585,
        "score": 0.5836,
        "score_top": 2.693,
        "reactions": 4.9432,
        "check_reaction": 2.1187,
        "negative_reaction": -1.0,
        "hedge": -1.8991,
        "is_question": -0.6627,
        "is_thanks": -0.2453,
        "link": 0.9203,
        "code": -0.1401,
        "number": 0.3931,
        "length": 0.9817,
        "longest": 1.5586,
        "first_reply": 0.7636,
        "position": -1.777,
        "delay_hours": 0.2699,
        "other_department": -0.3185,
        "bot": -3.0,
    },
    intercept=-8.2159,
    threshold=0.238,
    fitted_on="ai+demo8",
)

CHAT = SolutionModel(
    weights={
        "replies_to_question": 0.5107,
        "by_asker": -0.9174,
        "self_resolved": 3.7276,
        "thanked_direct": 2.7764,
        "thanked_after": 1.5073,
        "failure_after": -2.0383,
        "asker_engaged": -0.4533,
        "score": 0.5836,
        "score_top": 2.693,
        "reactions": 4.9432,
        "check_reaction": 2.1187,
        "negative_reaction": -1.0,
        "hedge": -1.6504,
        "is_question": -0.7243,
        "is_thanks": -0.3576,
        "link": 0.4474,
        "code": 0.2808,
        "number": 0.7153,
        "length": 0.3381,
        "longest": 0.6125,
        "first_reply": 0.6902,
        "position": -1.0443,
        "delay_hours": -0.3595,
        "other_department": -0.3185,
        "bot": -3.0,
        "ack_next": 1.6993,
        "asker_next": -0.6525,
        "failure_next": -2.0183,
        "mentions_asker": 1.1851,
        "helper_first": 1.2687,
        "promise": -0.7742,
        "question_asks": 2.1532,
    },
    intercept=-6.1607,
    threshold=0.558,
    fitted_on="racket 2017-2019",
)

#: Space kinds whose threads are conversations (chat), where the chat model applies.
CHAT_SPACE_KINDS = frozenset({"channel", "dm"})


def model_for(thread: ThreadInput) -> SolutionModel:
    """``CHAT`` for a chat thread (a channel or DM thread without labelled answers), else ``DEFAULT``."""
    if thread.space_kind in CHAT_SPACE_KINDS and not any(p.kind == "answer" for p in thread.posts):
        return CHAT
    return DEFAULT
