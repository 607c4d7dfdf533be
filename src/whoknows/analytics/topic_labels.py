"""Readable, distinctive labels for clusters of questions (the topics of :mod:`whoknows.analytics.topics`).

A label names what sets a topic apart, not what its questions merely share with everything else. Candidates are
words (grouped by a light stem, so "hotel" and "hotels" count together) and two-word phrases (adjacent content
words in their original order, e.g. "rate limits", "quarter close"). Each candidate is scored by how many of the
topic's questions contain it (coverage ``p``) against how many of all questions do (background ``q``)::

    score = p · log(p / q)        (q smoothed: (df + 1) / (n + 2))

which favours terms that are both common in the topic and rare outside it. A word is shown as its best phrase when
that phrase covers at least ``PHRASE_SHARE`` of the word's questions, and each stem appears once per label. The
surface form shown is the one that occurs most often in the topic. Only the questions a viewer may read
(``may_label``) contribute words, coverage or surface forms; all questions count towards the background.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from whoknows.analytics.stopwords import STOPWORDS

#: A word, or one separator character (punctuation breaks a phrase; whitespace and hyphens do not).
_TOKEN = re.compile(r"[a-z0-9]+|[^\sa-z0-9-]")
#: Links and addresses name where something is, not what it is about ("http / www / com").
_LINK = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\w+|\S+\.(?:png|jpe?g|gif|html?|pdf)\b")
#: Cheap test for whether :data:`_LINK` can match at all (it is costly to run on every question).
_LINK_HINT = re.compile(r"://|www\.|@|\.(?:png|jpe?g|gif|html?|pdf)\b")
_CONTENT = re.compile(r"[a-z][a-z0-9]+")
#: A phrase replaces its word when it covers at least this share of the word's questions in the topic.
PHRASE_SHARE = 0.5
#: Later parts of a label must score at least this share of the first part's score.
MIN_RELATIVE_SCORE = 0.25
LABEL_PARTS = 3
#: Light verbs of asking and telling: distinctive of how a question is phrased, not of what it is about.
LABEL_STOPWORDS = frozenset(
    """says said say asks wants wanted wonder wondering goes going happens happened take takes put puts make makes
    made give gives bring brings come comes tell tells told think thinks thought seem seems try tries trying""".split()  # noqa: SIM905
)
#: The least Dice coefficient of the two words of a phrase (over all questions) for it to count as one.
COLLOCATION = 0.2
LABEL_WORDS = 4
TERMS = 5
MAX_CANDIDATES = 30
#: Questions whose words are counted when there are more (a random sample; see :func:`label_topics`).
LABEL_SAMPLE = 50_000
#: Readable questions per topic counted at least (all of them when it has fewer).
MIN_TOPIC_SAMPLE = 200


def stem(word: str) -> str:
    """A light, conservative stem used only to group inflections ("closes", "closing", "close" → "clos")."""
    w = word.lower()
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif w.endswith("sses"):
        w = w[:-2]
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if len(w) > 5 and w.endswith("ing"):
        w = w[:-3]
    elif len(w) > 4 and w.endswith("ed"):
        w = w[:-2]
    if len(w) > 3 and w.endswith("e"):
        w = w[:-1]
    return w


def is_content(word: str) -> bool:
    return (
        len(word) >= 3
        and word not in STOPWORDS
        and word not in LABEL_STOPWORDS
        and _CONTENT.fullmatch(word) is not None
    )


@dataclass(frozen=True)
class Terms:
    """The candidate terms of one question: stem key → surface form (a word key is ``(stem,)``, a phrase key is
    ``(stem, stem)``)."""

    words: dict[tuple[str, ...], str]
    phrases: dict[tuple[str, ...], str]


@lru_cache(maxsize=1 << 17)
def _content_stem(token: str) -> str | None:
    """The stem of a content word, None for anything else (once per distinct token: a vocabulary is small)."""
    return stem(token) if is_content(token) else None


def question_terms(text: str) -> Terms:
    words: dict[tuple[str, ...], str] = {}
    phrases: dict[tuple[str, ...], str] = {}
    prev: str | None = None
    prev_stem = ""
    lowered = text.lower()
    if _LINK_HINT.search(lowered):
        lowered = _LINK.sub(" . ", lowered)
    for tok in _TOKEN.findall(lowered):
        st = _content_stem(tok)
        if st is None:
            prev = None
            continue
        words.setdefault((st,), tok)
        if prev is not None:
            phrases.setdefault((prev_stem, st), f"{prev} {tok}")
        prev, prev_stem = tok, st
    return Terms(words, {k: v for k, v in phrases.items() if k[0] != k[1]})


@dataclass
class _Topic:
    """Counts over the questions of one topic that may label it."""

    n: int = 0
    df: Counter[tuple[str, ...]] = field(default_factory=Counter)
    surfaces: dict[tuple[str, ...], Counter[str]] = field(default_factory=dict)
    candidates: list[tuple[str, ...]] = field(default_factory=list)  # its distinctive words, best first
    in_label: int = 0  # how many of them score high enough to be part of the label


def label_topics(
    texts: Sequence[str],
    assign: Sequence[int],
    n_topics: int,
    may_label: Sequence[bool] | None = None,
    *,
    sample: int = LABEL_SAMPLE,
    seed: int = 0,
) -> tuple[list[str], list[list[str]]]:
    """For each topic ``0..n_topics-1``: its label ("" when none of its questions may label it) and its top words.

    Of more than ``sample`` questions, a random ``sample`` gives the background shares, and the labelling
    questions are the readable ones among them plus, for a topic with fewer than :data:`MIN_TOPIC_SAMPLE` of
    those, more of its readable questions: shares from a sample are as good, at a fraction of the cost (1M
    messages: 305,000 questions). Two passes keep memory bounded: words first, then only the phrases and surface
    forms of each topic's candidate words."""
    ok = np.asarray(list(may_label) if may_label is not None else [True] * len(texts), dtype=bool)
    topic_of = np.asarray(assign, dtype=np.int64)
    n = len(texts)
    in_bg = np.ones(n, dtype=bool)
    if n > sample:
        in_bg[:] = False
        in_bg[np.random.default_rng(seed).choice(n, sample, replace=False)] = True
    in_fg = in_bg & ok
    if n > sample:
        have = np.bincount(topic_of[in_fg], minlength=n_topics)
        for t in np.flatnonzero(have < MIN_TOPIC_SAMPLE).tolist():
            more = np.flatnonzero(ok & ~in_fg & (topic_of == t))[: MIN_TOPIC_SAMPLE - int(have[t])]
            in_fg[more] = True
    rows = np.flatnonzero(in_bg | in_fg).tolist()
    n_bg = int(in_bg.sum())
    background: Counter[tuple[str, ...]] = Counter()
    topics = [_Topic() for _ in range(n_topics)]
    for i in rows:
        words = question_terms(texts[i]).words
        if in_bg[i]:
            background.update(words.keys())
        if in_fg[i]:
            top = topics[int(topic_of[i])]
            top.n += 1
            top.df.update(words.keys())
    for top in topics:
        top.candidates, top.in_label = _candidates(top, background, n_bg)
    wanted = {w[0] for top in topics for w in top.candidates}
    for i in rows:
        terms = question_terms(texts[i])
        phrases = {k: v for k, v in terms.phrases.items() if k[0] in wanted or k[1] in wanted}
        if in_bg[i]:
            background.update(phrases.keys())
        if not in_fg[i]:
            continue
        top = topics[int(topic_of[i])]
        mine = {w[0] for w in top.candidates}
        for key, surface in (*terms.words.items(), *phrases.items()):
            if mine.intersection(key):
                top.surfaces.setdefault(key, Counter())[surface] += 1
                if len(key) == 2:
                    top.df[key] += 1
    labels, top_words = [], []
    for top in topics:
        label, best = _label(top, background)
        labels.append(label)
        top_words.append(best)
    return labels, top_words


def _score(top: _Topic, background: Counter[tuple[str, ...]], n: int, key: tuple[str, ...]) -> float:
    """Coverage-weighted log-lift of ``key`` in the topic against all questions."""
    if not top.n or not top.df[key]:
        return 0.0
    p = top.df[key] / top.n
    q = (background[key] + 1) / (n + 2)
    return p * math.log(p / q) if p > q else 0.0


def _candidates(top: _Topic, background: Counter[tuple[str, ...]], n: int) -> tuple[list[tuple[str, ...]], int]:
    """The topic's words in at least two of its questions (one if it has one), best first (at most
    ``MAX_CANDIDATES``), and how many of them score at least ``MIN_RELATIVE_SCORE`` of the best."""
    min_df = 2 if top.n >= 2 else 1
    scored = sorted((-s, k) for k, c in top.df.items() if c >= min_df and (s := _score(top, background, n, k)) > 0)
    if not scored:
        return [], 0
    in_label = min(MAX_CANDIDATES, sum(1 for s, _ in scored if s <= MIN_RELATIVE_SCORE * scored[0][0]))
    return [k for _, k in scored[: max(TERMS, in_label)]], in_label


def _sticks(phrase: tuple[str, ...], background: Counter[tuple[str, ...]]) -> bool:
    """Whether the two words of ``phrase`` go together (a collocation such as "rate limit", not "says quorra"):
    the Dice coefficient of their questions over all questions is at least ``COLLOCATION``."""
    both = background[phrase]
    return 2 * both >= COLLOCATION * (background[phrase[:1]] + background[phrase[1:]])


def _label(top: _Topic, background: Counter[tuple[str, ...]]) -> tuple[str, list[str]]:
    """The label (up to ``LABEL_PARTS`` words or phrases, ``LABEL_WORDS`` words) and the top words of a topic."""
    if not top.candidates:
        return "", []
    df = top.df

    def surface(key: tuple[str, ...]) -> str:
        return min(top.surfaces[key].items(), key=lambda kv: (-kv[1], kv[0]))[0]

    min_df = 2 if top.n >= 2 else 1
    by_word: dict[str, list[tuple[str, ...]]] = {}
    for key, c in df.items():
        if len(key) == 2 and c >= min_df and _sticks(key, background):
            for w in key:
                by_word.setdefault(w, []).append(key)
    parts: list[str] = []
    used: set[str] = set()
    n_words = 0
    for key in top.candidates[: top.in_label]:
        if len(parts) >= LABEL_PARTS:
            break
        if key[0] in used:
            continue
        best = max(
            (p for p in by_word.get(key[0], []) if not used.intersection(p)),
            key=lambda p: (df[p], p),
            default=None,
        )
        chosen = best if best is not None and df[best] >= PHRASE_SHARE * df[key] else key
        if parts and n_words + len(chosen) > LABEL_WORDS:
            continue
        parts.append(surface(chosen))
        used.update(chosen)
        n_words += len(chosen)
    return " / ".join(parts), [surface(k) for k in top.candidates[:TERMS]]
