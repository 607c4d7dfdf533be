"""Per-topic measures: how many people can answer a topic (its bus factor) and which topics depend on one person.

The bus factor of a topic is the number of distinct people who answered (a strong help event: accepted, solved,
ticket, routed) at least ``min_answers`` of its questions in the last ``months`` months; one stray answer does not
make someone a person the topic can rely on. A topic *depends on one person* when its bus factor is at most 1
while it had at least ``min_answered`` answered questions in that period and that person gave at least half of
its answers.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from whoknows.analytics.ledger import HelpEvent
from whoknows.analytics.topics import Topics


@dataclass
class TopicStats:
    topic: int
    label: str
    terms: list[str]
    questions: int  # questions asked in the period
    answered: int  # of which answered (a strong event)
    answerers: int  # distinct people with at least one answer
    bus_factor: int  # distinct people with at least ``min_answers`` answers
    top_share: float  # share of the answers given by the most frequent answerer
    one_person: bool
    top_person_id: int | None = None  # only exposed to viewers with individual access
    top_person: str | None = None
    by_month: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"topic": self.topic, "label": self.label, "terms": self.terms, "questions": self.questions,
                "answered": self.answered, "answerers": self.answerers, "bus_factor": self.bus_factor,
                "top_share": round(self.top_share, 3), "one_person": self.one_person,
                "top_person": self.top_person}  # fmt: skip


def topic_stats(
    events: Iterable[HelpEvent],
    topics: Topics,
    asked: Mapping[int, datetime],
    *,
    since: datetime,
    min_answers: int = 2,
    min_answered: int = 5,
) -> list[TopicStats]:
    """``asked``: question id → when it was asked, for the questions in scope (their topic is in ``topics``)."""
    questions: Counter[int] = Counter()
    for qid, when in asked.items():
        t = topics.of_question.get(qid)
        if t is not None and when >= since:
            questions[t] += 1
    answers: dict[int, Counter[int]] = defaultdict(Counter)
    answered: dict[int, set[int]] = defaultdict(set)
    for e in events:
        if e.strong and e.topic is not None and e.asked_at >= since:
            answers[e.topic][e.helper_id] += 1
            answered[e.topic].add(e.question_id)
    out = []
    for t, label in enumerate(topics.labels):
        per = answers.get(t, Counter())
        total = sum(per.values())
        top_id, top_n = per.most_common(1)[0] if per else (None, 0)
        bus = sum(1 for n in per.values() if n >= min_answers)
        n_answered = len(answered.get(t, ()))
        out.append(
            TopicStats(
                t,
                label,
                topics.terms[t],
                questions[t],
                n_answered,
                len(per),
                bus,
                top_n / total if total else 0.0,
                bus <= 1 and n_answered >= min_answered and top_n / max(1, total) >= 0.5,
                top_id,
            )
        )
    return sorted(out, key=lambda s: (s.bus_factor, -s.answered, s.topic))
