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
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from whoknows.analytics.stopwords import STOPWORDS

#: A word, or one separator character (punctuation breaks a phrase; whitespace and hyphens do not).
_TOKEN = re.compile(r"[a-z0-9]+|[^\sa-z0-9-]", re.IGNORECASE)
#: Links and addresses name where something is, not what it is about ("http / www / com").
_LINK = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\w+|\S+\.(?:png|jpe?g|gif|html?|pdf)\b", re.IGNORECASE)
#: Cheap test for whether :data:`_LINK` can match at all (it is costly to run on every question).
_LINK_HINT = re.compile(r"://|www\.|@|\.(?:png|jpe?g|gif|html?|pdf)\b", re.IGNORECASE)
#: After one of these a capital says nothing about the word (a sentence starts).
_SENTENCE_END = frozenset(".?!:;\"'()[]*>")
_CONTENT = re.compile(r"[a-z][a-z0-9]+")
#: A phrase replaces its word when it covers at least this share of the word's questions in the topic.
PHRASE_SHARE = 0.5
#: Later parts of a label must score at least this share of the first part's score.
MIN_RELATIVE_SCORE = 0.25
LABEL_PARTS = 3
#: Light verbs of asking and telling, prepositions (no phrase ends "lunch near") and the stems of contractions
#: ("didn't"): distinctive of how a question is phrased, not of what it is about.
LABEL_STOPWORDS = frozenset(
    """says said say asks wants wanted wonder wondering goes going happens happened take takes put puts make makes
    made give gives bring brings come comes tell tells told think thinks thought seem seems try tries trying
    near beyond without within across via per upon onto toward towards among since unless whether
    didn doesn isn couldn wouldn shouldn haven hasn hadn weren""".split()  # noqa: SIM905
)
#: Spread (see :func:`_spread`) from which a word is used like ordinary text across topics (chosen on the demo
#: organisation and ai.stackexchange; reported on beer.stackexchange and racket chats).
SPREAD = 0.6
#: A phrase leads the label when it scores at least this share of the best (uncapitalised) word.
PHRASE_LEAD = 0.25
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
    """Content words and adjacent pairs of them, keyed by stem. A surface keeps the writer's capitals ("SOC",
    "Salesforce") except at the start of a sentence, where a capital says nothing about the word."""
    words: dict[tuple[str, ...], str] = {}
    phrases: dict[tuple[str, ...], str] = {}
    prev: str | None = None
    prev_stem = ""
    if _LINK_HINT.search(text):
        text = _LINK.sub(" . ", text)
    start = True
    for raw in _TOKEN.findall(text):
        tok = raw.lower()
        st = _content_stem(tok)
        if st is None:
            prev = None
            start = not raw[0].isalnum() and raw in _SENTENCE_END  # a word or a comma: mid-sentence
            continue
        shown = tok if start else raw
        start = False
        words.setdefault((st,), shown)
        if prev is not None:
            phrases.setdefault((prev_stem, st), f"{prev} {shown}")
        prev, prev_stem = shown, st
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
    names: Iterable[str] = (),
) -> tuple[list[str], list[list[str]]]:
    """For each topic ``0..n_topics-1``: its label ("" when none of its questions may label it) and its top words.

    Of more than ``sample`` questions, a random ``sample`` gives the background shares, and the labelling
    questions are the readable ones among them plus, for a topic with fewer than :data:`MIN_TOPIC_SAMPLE` of
    those, more of its readable questions: shares from a sample are as good, at a fraction of the cost (1M
    messages: 305,000 questions). Two passes keep memory bounded: words first, then only the phrases and surface
    forms of each topic's candidate words. ``names`` (people's names) are never part of a label where the questions
    write them as names (capitalised)."""
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
    spread = _spread(topics)
    named = {stem(w) for name in names for w in _TOKEN.findall(name.lower()) if is_content(w)}
    for top in topics:
        label, best = _label(top, background, n_bg, spread, named)
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


def _cased_at(forms: Counter[str], i: int) -> bool:
    """Whether most occurrences of ``forms`` (surface forms of one term) capitalise their ``i``-th word."""
    up = sum(c for f, c in forms.items() if len(w := f.split()) > i and w[i] != w[i].lower())
    return 2 * up > sum(forms.values())


def _spread(topics: Sequence[_Topic]) -> dict[str, float]:
    """How evenly each candidate word is spread over the topics other than its own: the effective number (exp of
    the entropy) of topics its questions fall in, outside the topic with most of them, over that of all questions
    outside that topic. About 1 for a word used like any other (a customer or person named anywhere, "find"),
    near 0 for a word that belongs to a few topics ("Beacon", "rate")."""
    sizes = np.asarray([t.n for t in topics], dtype=np.float64)
    words = {k[0] for t in topics for k in t.candidates if len(k) == 1}
    out: dict[str, float] = {}
    for w in words:
        v = np.asarray([t.df.get((w,), 0) for t in topics], dtype=np.float64)
        best = int(v.argmax())
        v[best] = 0.0
        rest = sizes.copy()
        rest[best] = 0.0
        out[w] = _effective(v) / _effective(rest) if v.sum() > 0 and rest.sum() > 0 else 0.0
    return out


def _effective(counts: np.ndarray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(np.exp(-(p * np.log(p)).sum()))


def _label(
    top: _Topic, background: Counter[tuple[str, ...]], n: int, spread: dict[str, float], named: AbstractSet[str]
) -> tuple[str, list[str]]:
    """The label (up to ``LABEL_PARTS`` words or phrases, ``LABEL_WORDS`` words) and the top words of a topic.

    A name (a word mostly written with capitals) spread over the topics like ordinary text (``SPREAD``) is a
    customer or a person mentioned anywhere, not what the topic is about: it is left out of the label, its phrases
    and the top words, and so is a person's name (``named``) written as a name. An uncapitalised word that spread
    is an ordinary word ("find", "possible"): it may be part of a phrase but is no part on its own. Parts after
    the first are phrases or names ("SOC", "Salesforce"), never loose common words, and the label leads with its
    best phrase when that scores at least ``PHRASE_LEAD`` of its best word."""
    if not top.candidates:
        return "", []
    df = top.df

    def surface(key: tuple[str, ...]) -> str:
        """The most frequent form, each word capitalised only where most of the forms capitalise it."""
        forms = top.surfaces[key]
        shown = min(forms.items(), key=lambda kv: (-kv[1], kv[0]))[0].split()
        return " ".join(w if _cased_at(forms, i) else w.lower() for i, w in enumerate(shown))

    def cased(key: tuple[str, ...]) -> bool:
        forms = top.surfaces.get(key)
        return forms is not None and all(_cased_at(forms, i) for i in range(len(key)))

    entity = {k[0] for k in top.candidates if (spread.get(k[0], 0.0) >= SPREAD or k[0] in named) and cased(k)}
    ordinary = {k[0] for k in top.candidates if spread.get(k[0], 0.0) >= SPREAD} - entity
    min_df = 2 if top.n >= 2 else 1
    by_word: dict[str, list[tuple[str, ...]]] = {}
    for key, c in df.items():
        if len(key) == 2 and c >= min_df and not entity.intersection(key) and _sticks(key, background):
            for w in key:
                by_word.setdefault(w, []).append(key)
    options: list[tuple[str, ...]] = []  # each label candidate word, or the phrase that stands for it
    for pool in (top.candidates[: top.in_label], top.candidates[top.in_label :]):
        for key in pool:  # the weaker words only when the strong ones were all names or ordinary words
            if key[0] in entity:
                continue
            best = max(by_word.get(key[0], []), key=lambda p: (df[p], p), default=None)
            chosen = best if best is not None and df[best] >= PHRASE_SHARE * df[key] else key
            if len(chosen) == 2 or key[0] not in ordinary:
                options.append(chosen)
        if options:
            break
    if options and len(options[0]) == 1 and not cased(options[0]):
        phrases = {p for ps in by_word.values() for p in ps}
        lead = max(phrases, key=lambda p: (_score(top, background, n, p), p), default=None)
        if lead is not None and _score(top, background, n, lead) >= PHRASE_LEAD * _score(
            top, background, n, options[0]
        ):
            options.insert(0, lead)
    parts: list[str] = []
    used: set[str] = set()
    n_words = 0
    for chosen in options:
        if len(parts) >= LABEL_PARTS:
            break
        if used.intersection(chosen) or (parts and len(chosen) == 1 and not cased(chosen)):
            continue
        if parts and n_words + len(chosen) > LABEL_WORDS:
            continue
        parts.append(surface(chosen))
        used.update(chosen)
        n_words += len(chosen)
    return " / ".join(parts), [surface(k) for k in top.candidates if k[0] not in entity][:TERMS]
