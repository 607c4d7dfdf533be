"""Text analysis shared by the lexical index and the project's own static embedder.

NFKC + case folding, Unicode word tokens, English stop words removed, Snowball English stemming
(``PyStemmer``, with a small suffix-stripping fallback when it is absent). Scripts written without spaces
(CJK, kana, Hangul, Thai ...) are split into overlapping character bigrams, so a query in any script gets a
best-effort match and never crashes. Queries are truncated to ``MAX_QUERY_CHARS`` before analysis.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

MAX_QUERY_CHARS = 4000
MAX_TOKEN_CHARS = 40

_STOP_TEXT = """
a about above after again against all am an and any are aren't as at be because been before being
below between both but by can cannot could couldn't did didn't do does doesn't doing don't down
during each few for from further had hadn't has hasn't have haven't having he he'd he'll he's her
here here's hers herself him himself his how how's i i'd i'll i'm i've if in into is isn't it it's
its itself let's me more most mustn't my myself no nor not of off on once only or other ought our
ours ourselves out over own same shan't she she'd she'll she's should shouldn't so some such than
that that's the their theirs them themselves then there there's these they they'd they'll they're
they've this those through to too under until up very was wasn't we we'd we'll we're we've were
weren't what what's when when's where where's which while who who's whom why why's with won't would
wouldn't you you'd you'll you're you've your yours yourself yourselves s t d ll m re ve hi hello
thanks thank please also just get got
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())

_WORD = re.compile(r"\w+", re.UNICODE)
# Scripts without spaces between words: CJK ideographs, kana, Hangul, Thai, Lao, Khmer, Myanmar.
_NOSPACE = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+"
)


def _fallback_stem(word: str) -> str:
    for suffix, repl in (
        ("ies", "y"),
        ("sses", "ss"),
        ("ing", ""),
        ("edly", ""),
        ("ed", ""),
        ("ly", ""),
        ("s", ""),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: -len(suffix)] + repl
    return word


def _make_stemmer() -> Callable[[str], str]:
    try:
        import Stemmer  # type: ignore[import-not-found]  # PyStemmer ships no type hints
    except ImportError:  # pragma: no cover - exercised only without PyStemmer
        return _fallback_stem
    stemmer = Stemmer.Stemmer("english")
    stem_word: Callable[[str], str] = stemmer.stemWord
    return stem_word


_stem_word = _make_stemmer()


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Stem a lower-cased word; only Latin-script words are stemmed, other scripts pass unchanged."""
    if word.isascii() and word.isalpha() and len(word) > 3:
        return _stem_word(word)
    return word


def _bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def _split_token(token: str) -> list[str]:
    """A ``\\w+`` token may mix scripts (``iphone用``): latin parts are words, no-space parts bigrams."""
    if token.isascii() or not _NOSPACE.search(token):
        return [token]
    out: list[str] = []
    pos = 0
    for m in _NOSPACE.finditer(token):
        if m.start() > pos:
            out.append(token[pos : m.start()])
        out.extend(_bigrams(m.group()))
        pos = m.end()
    if pos < len(token):
        out.append(token[pos:])
    return out


def analyze(text: str, *, stop_words: frozenset[str] = STOP_WORDS) -> list[str]:
    """Index terms of a text, in order (duplicates kept)."""
    if not text:
        return []
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    terms: list[str] = []
    for raw in _WORD.findall(text.casefold().replace("_", " ")):
        for tok in _split_token(raw):
            if len(tok) > MAX_TOKEN_CHARS or tok in stop_words:
                continue
            terms.append(stem(tok))
    return terms


def analyze_query(text: str) -> list[str]:
    """Like :func:`analyze`, after truncating very long queries. One question is analysed by every ranker that
    sees it (memory's lexical and vector search, the expert finder's votes, profiles and evidence): the last few
    are remembered."""
    return list(_analyze_query(text[:MAX_QUERY_CHARS]))


@lru_cache(maxsize=64)
def _analyze_query(text: str) -> tuple[str, ...]:
    return tuple(analyze(text))
