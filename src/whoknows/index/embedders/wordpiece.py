"""A BERT-style uncased WordPiece tokenizer (greedy longest match), enough to use a vocabulary distilled from
MiniLM without the ``tokenizers`` package."""

from __future__ import annotations

import unicodedata

MAX_WORD_CHARS = 100


def _is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return 0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0xF900 <= cp <= 0xFAFF or 0x20000 <= cp <= 0x2FA1F


def _is_punct(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def basic_tokens(text: str) -> list[str]:
    """Lower-case, strip accents, split on whitespace and punctuation, CJK characters on their own."""
    text = unicodedata.normalize("NFD", text.lower())
    words: list[str] = []
    cur: list[str] = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat == "Mn":
            continue
        if ch.isspace() or cat.startswith("C"):
            if cur:
                words.append("".join(cur))
                cur = []
        elif _is_punct(ch) or _is_cjk(ch):
            if cur:
                words.append("".join(cur))
                cur = []
            words.append(ch)
        else:
            cur.append(ch)
    if cur:
        words.append("".join(cur))
    return words


def wordpiece(word: str, vocab: dict[str, int]) -> list[int]:
    """Ids of the greedy longest-match pieces of one word; ``[]`` when it cannot be covered (unknown)."""
    if len(word) > MAX_WORD_CHARS:
        return []
    out: list[int] = []
    start = 0
    while start < len(word):
        end = len(word)
        found = -1
        while start < end:
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            found = vocab.get(piece, -1)
            if found >= 0:
                break
            end -= 1
        if found < 0:
            return []
        out.append(found)
        start = end
    return out


def tokenize_ids(text: str, vocab: dict[str, int]) -> list[int]:
    return [i for w in basic_tokens(text) for i in wordpiece(w, vocab)]
